package sysmem

// Total returns the memory this process may use, in bytes: the smallest of its cgroup
// memory limit (v2 memory.max or v1 memory.limit_in_bytes, when set) and the machine's
// physical memory (MemTotal in /proc/meminfo). source is the file the figure came from
// (CgroupV2Max, CgroupV1Limit or ProcMeminfo). ok is false when none of them could be
// read, and on systems other than Linux.
func Total() (bytes uint64, source string, ok bool) { return total(readFile) }
