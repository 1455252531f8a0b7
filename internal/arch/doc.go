// Package arch holds tests of the repository's architecture: which package may import what.
package arch
