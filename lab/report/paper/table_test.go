package paper

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestEscapeLaTeX(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"min_chunk_threshold", `min\_chunk\_threshold`},
		{"50% & more", `50\% \& more`},
		{"#1 $5", `\#1 \$5`},
		{"a~b^c", `a\textasciitilde{}b\textasciicircum{}c`},
		{`back\slash`, `back\textbackslash{}slash`},
		{"{braces}", `\{braces\}`},
		{"a<b>c|d", `a\textless{}b\textgreater{}c\textbar{}d`},
		{"1–2 ± 3 × 4 ≥ 5", `1--2 $\pm$ 3 $\times$ 4 $\geq$ 5`},
		{"-0.09% [-1, 2]", `$-$0.09\% [$-$1, 2]`},
		{"min-chunk-threshold x-1", "min-chunk-threshold x-1"},
		{"−0.5", `$-$0.5`},
	} {
		if got := EscapeLaTeX(tc.in); got != tc.want {
			t.Errorf("EscapeLaTeX(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEscapeMarkdown(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain [1, 2] (x)", "plain [1, 2] (x)"},
		{"min_chunk_threshold", `min\_chunk\_threshold`},
		{"a|b *c* `d` <e> ~f~", "a\\|b \\*c\\* \\`d\\` \\<e\\> \\~f\\~"},
		{"#1 and #2", `\#1 and #2`},
		{"[link](x)", `\[link\](x)`},
		{`back\slash`, `back\\slash`},
		{"50% & $5", "50% & $5"},
	} {
		if got := EscapeMarkdown(tc.in); got != tc.want {
			t.Errorf("EscapeMarkdown(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// nasty is a name with every character LaTeX or Markdown treat specially.
const nasty = `exp_1 50% & #2 $x ~y ^z \w {b} |p| *e*`

func nastyTable() *Table {
	return &Table{
		Caption:  "Choice in experiment " + nasty + ".",
		Label:    "decision " + nasty,
		Columns:  []Column{{Head: "preset"}, {Head: "min_chunk_threshold", Right: true}, {Head: "score", Right: true}},
		Rows:     [][]string{{nasty, "16", "0.99"}, {"default", "0", "1"}},
		Marked:   []bool{true, false},
		MarkNote: "the choice",
		Notes:    []string{"Note with " + nasty},
	}
}

// checkBalanced fails unless every \begin has its \end in order and
// unescaped braces balance.
func checkBalanced(t *testing.T, tex string) {
	t.Helper()
	var stack []string
	for _, m := range regexp.MustCompile(`\\(begin|end)\{(\w+)\}`).FindAllStringSubmatch(tex, -1) {
		if m[1] == "begin" {
			stack = append(stack, m[2])
			continue
		}
		if len(stack) == 0 || stack[len(stack)-1] != m[2] {
			t.Fatalf("\\end{%s} does not close %v", m[2], stack)
		}
		stack = stack[:len(stack)-1]
	}
	if len(stack) > 0 {
		t.Errorf("unclosed environments %v", stack)
	}
	depth := 0
	for i := 0; i < len(tex); i++ {
		switch tex[i] {
		case '\\':
			i++ // an escaped character (\{, \}, \%, \\)
		case '{':
			depth++
		case '}':
			depth--
			if depth < 0 {
				t.Fatalf("unbalanced } at byte %d: %q", i, tex[max(0, i-30):i+1])
			}
		case '%':
			// an unescaped % would comment out the rest of the line: only
			// the header comment may have one.
			if !strings.HasPrefix(tex[strings.LastIndexByte(tex[:i], '\n')+1:], "% Generated") {
				t.Errorf("unescaped %% at byte %d: %q", i, tex[max(0, i-30):min(len(tex), i+10)])
			}
		case '&', '#', '$', '_', '^', '~':
			// & separates cells: count per row below; the rest must be escaped
			// or inside the math of a symbol ($-$, $\pm$).
		}
	}
	if depth != 0 {
		t.Errorf("braces do not balance (depth %d)", depth)
	}
}

func TestLaTeX(t *testing.T) {
	var b bytes.Buffer
	if err := nastyTable().WriteLaTeX(&b); err != nil {
		t.Fatal(err)
	}
	tex := b.String()
	checkBalanced(t, tex)
	for _, want := range []string{
		`\begin{tabular}{lrr}`, `\toprule`, `\midrule`, `\bottomrule`,
		`\label{tab:decision-exp-1-50-----2--x--y--z--w--b---p---e-}`,
		`preset & min\_chunk\_threshold & score \\`,
		`\textbf{exp\_1 50\% \& \#2 \$x \textasciitilde{}y \textasciicircum{}z \textbackslash{}w \{b\} \textbar{}p\textbar{} *e*} & \textbf{16} & \textbf{0.99} \\`,
		`default & 0 & 1 \\`,
		`Bold: the choice.}`,
	} {
		if !strings.Contains(tex, want) {
			t.Errorf("LaTeX lacks %q:\n%s", want, tex)
		}
	}
	// Every body row has one & fewer than columns (escaped \& excluded).
	for _, line := range strings.Split(tex, "\n") {
		if strings.HasSuffix(line, `\\`) {
			if n := strings.Count(line, "&") - strings.Count(line, `\&`); n != 2 {
				t.Errorf("row %q has %d cell separators, want 2", line, n)
			}
		}
	}
}

func TestMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := nastyTable().WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| preset | min\\_chunk\\_threshold | score |\n| --- | ---: | ---: |\n",
		"| **exp\\_1 50% & #2 $x \\~y ^z \\\\w {b} \\|p\\| \\*e\\*** | **16** | **0.99** |\n",
		"| default | 0 | 1 |\n",
		"Bold: the choice.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	// Every table line has as many unescaped pipes as a 3-column row.
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "|") {
			if n := strings.Count(line, "|") - strings.Count(line, `\|`); n != 4 {
				t.Errorf("line %q has %d unescaped pipes, want 4", line, n)
			}
		}
	}
}

func TestTableErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Table)
		want string
	}{
		{"no columns", func(tb *Table) { tb.Columns = nil }, "table without columns"},
		{"short row", func(tb *Table) { tb.Rows[1] = tb.Rows[1][:2] }, "row 1 has 2 cells for 3 columns"},
		{"marks", func(tb *Table) { tb.Marked = []bool{true} }, "1 marks for 2 rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := nastyTable()
			tc.edit(tb)
			var b bytes.Buffer
			if err := tb.WriteLaTeX(&b); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LaTeX: err %v, want %q", err, tc.want)
			}
			if err := tb.WriteMarkdown(&b); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Markdown: err %v, want %q", err, tc.want)
			}
		})
	}
}
