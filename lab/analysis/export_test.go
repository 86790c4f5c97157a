package analysis

// The tests of this package read the hand-made legacy trees under
// testdata/legacy. Reading a tree belongs to lab/legacy, which imports this
// package, so the tests cannot import it; legacy_test.go (package
// analysis_test, which may) sets these to lab/legacy's reader and error
// before any test runs.
var (
	LoadLegacy     func(root string) (*Table, error)
	ErrLegacyEmpty error
)
