// Command gentree writes a synthetic legacy threshold_output tree, for
// trying `lab select --root` and timing it against the Python script:
//
//	go run ./lab/cmd/gentree -out /tmp/tree -thresholds 101 -repeats 10 -rows 20000
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/schedlab/schedlab/lab/internal/treegen"
)

func main() {
	var o treegen.Options
	out := flag.String("out", "", "folder to write the tree into (required)")
	flag.IntVar(&o.Thresholds, "thresholds", 101, "thresholds 0…N-1")
	flag.IntVar(&o.Repeats, "repeats", 10, "repeat (timestamp) folders")
	flag.IntVar(&o.Rows, "rows", 20000, "requests per CSV")
	flag.Uint64Var(&o.Seed, "seed", 1, "random seed")
	flag.Float64Var(&o.DropFile, "drop", 0, "fraction of threshold folders missing one CSV")
	flag.BoolVar(&o.Extra, "extra", false, "add folders and files that selection must ignore")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gentree: -out is required")
		os.Exit(2)
	}
	if err := treegen.Generate(*out, o); err != nil {
		fmt.Fprintln(os.Stderr, "gentree:", err)
		os.Exit(1)
	}
}
