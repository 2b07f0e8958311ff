// main.go - a Go program built with cgo (e2e_preload_go_cgo): known C.malloc blocks, some freed, then the runtime's raw exit_group (os.Exit or a return from main).
//
// usage: go_cgo return|exit STATUS. Through C.malloc: 10 x 1000 B, 4 of them freed, then one
// 50,000 B block freed at once. Live at the peak: 6 x 1000 + 50,000 = 56,000 B in 7 blocks;
// live at the end: 6,000 B in 6 blocks; 11 allocations, 60,000 B in all.
package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"os"
	"strconv"
	"unsafe"
)

var kept []unsafe.Pointer

func main() {
	for i := 0; i < 10; i++ {
		kept = append(kept, C.malloc(1000))
	}
	for i := 0; i < 4; i++ {
		C.free(kept[i])
	}
	big := C.malloc(50000)
	C.free(big)
	if len(os.Args) > 2 && os.Args[1] == "exit" {
		status, err := strconv.Atoi(os.Args[2])
		if err != nil {
			os.Exit(2)
		}
		os.Exit(status)
	}
	// a plain return: the runtime calls exit_group(0) itself
}
