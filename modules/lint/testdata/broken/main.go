// Command broken does not type-check, so no tool can check it.
package main

func main() {
	var n int = "not a number"
	_ = n
}
