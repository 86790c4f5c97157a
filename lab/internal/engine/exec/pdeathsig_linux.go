package exec

import "syscall"

// setParentDeathSignal asks the kernel to send the command SIGTERM when lab
// dies without cleaning up (kill -9), so a killed run does not leave its
// benchmark running on the GPU. Only the leader gets it; it is expected to
// take its own children down.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGTERM }
