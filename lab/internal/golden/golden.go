// Package golden holds the one -update flag of the golden-file tests: with
// `go test ./lab/<pkg> -update` a package's tests rewrite their golden files
// (testdata/…, and the testscript files of lab/cmd/lab) instead of
// comparing against them. Review the diff before committing it.
package golden

import "flag"

// Update is the -update flag.
var Update = flag.Bool("update", false, "rewrite the golden files instead of comparing against them")
