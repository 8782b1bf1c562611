package sysmem

// maxrssUnit is the unit of ru_maxrss: bytes on macOS (and iOS).
const maxrssUnit = 1
