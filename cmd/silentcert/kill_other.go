//go:build !unix

package main

import "os"

// killSelf ends the process at once.
func killSelf() { os.Exit(137) }
