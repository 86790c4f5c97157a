package docs

import (
	"strings"
	"testing"
)

func TestTopics(t *testing.T) {
	topics := Topics()
	if len(topics) < 10 {
		t.Fatalf("%d topics, want the reference pages", len(topics))
	}
	for i, tp := range topics {
		if tp.Title == "" {
			t.Errorf("topic %s has no heading", tp.Name)
		}
		if i > 0 && topics[i-1].Name >= tp.Name {
			t.Errorf("topics not sorted: %s before %s", topics[i-1].Name, tp.Name)
		}
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		want    string // a substring of the page, or of the error
		wantErr bool
	}{
		{"store", "# Store", false},
		{"slurm", "sbatch", false},
		{"nope", `no help topic "nope"; topics: `, true},
		{"../README", "no help topic", true},
	}
	for _, tc := range tests {
		text, err := Read(tc.name)
		switch {
		case tc.wantErr && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Read(%q) error %v, want %q", tc.name, err, tc.want)
		case !tc.wantErr && (err != nil || !strings.Contains(text, tc.want)):
			t.Errorf("Read(%q) = %.40q, %v; want a page containing %q", tc.name, text, err, tc.want)
		case !tc.wantErr && strings.Contains(text, "<!--"):
			t.Errorf("Read(%q) keeps a test marker comment", tc.name)
		}
	}
}
