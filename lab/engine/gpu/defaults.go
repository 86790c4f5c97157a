package gpu

// DefaultPython is the interpreter used when neither the spec's python
// field nor $LAB_PYTHON names one: Debian's, where python3-torch installs.
const DefaultPython = "/usr/bin/python3"
