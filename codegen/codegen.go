// Package codegen generates random discount codes and reads and writes code lists as CSV. It
// uses the standard library only and does no I/O of its own beyond the readers and writers it
// is given.
//
// Codes follow the app's code rule: 1 to 30 letters and digits, compared without regard to
// case. Everything this package returns is upper-case, the form codes are stored in.
package codegen

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxCodeLength is the longest code, prefix and suffix included.
const MaxCodeLength = 30

// MinRandomLength is the fewest random characters a generated code has.
const MinRandomLength = 4

// DefaultLength is the number of random characters when Pattern.Length is 0.
const DefaultLength = 10

// Named character sets for Pattern.Charset.
const (
	// CharsetDefault is upper-case letters and digits without the look-alikes 0, O, 1, I, L.
	CharsetDefault = "default"
	// CharsetAlphanumeric is A–Z and 0–9.
	CharsetAlphanumeric = "alphanumeric"
	// CharsetLetters is A–Z.
	CharsetLetters = "letters"
	// CharsetDigits is 0–9.
	CharsetDigits = "digits"
)

const (
	unambiguousChars  = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	alphanumericChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	letterChars       = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digitChars        = "0123456789"
)

// Pattern describes generated codes: Prefix, then Length random characters from Charset, then
// Suffix.
type Pattern struct {
	// Length is the number of random characters: at least MinRandomLength, and at most
	// MaxCodeLength minus the prefix and suffix. 0 means DefaultLength.
	Length int `json:"length"`
	// Charset is "default" (or empty), "alphanumeric", "letters", "digits", or a custom set
	// of at least 2 distinct letters and digits (case-insensitive; a repeated character
	// counts once).
	Charset string `json:"charset"`
	// Prefix and Suffix are fixed letters and digits around the random part.
	Prefix string `json:"prefix"`
	Suffix string `json:"suffix"`
}

// PatternError is a request that cannot be met, naming the field at fault ("length",
// "charset", "prefix", "suffix", "count").
type PatternError struct {
	Field   string
	Message string
}

func (e *PatternError) Error() string { return "codegen: " + e.Field + ": " + e.Message }

// ErrRandom is returned when the random source fails or keeps repeating itself.
var ErrRandom = errors.New("codegen: random source")

// Alphabet returns the pattern's characters, upper-case and without repeats.
func (p Pattern) Alphabet() (string, error) {
	switch strings.ToLower(strings.TrimSpace(p.Charset)) {
	case "", CharsetDefault:
		return unambiguousChars, nil
	case CharsetAlphanumeric:
		return alphanumericChars, nil
	case CharsetLetters:
		return letterChars, nil
	case CharsetDigits:
		return digitChars, nil
	}
	var seen [256]bool
	var b strings.Builder
	for i := 0; i < len(p.Charset); i++ {
		c := upper(p.Charset[i])
		if !isCodeChar(c) {
			return "", &PatternError{Field: "charset", Message: `must be "default", "alphanumeric", "letters", "digits", or letters and digits only`}
		}
		if !seen[c] {
			seen[c] = true
			b.WriteByte(c)
		}
	}
	if b.Len() < 2 {
		return "", &PatternError{Field: "charset", Message: "must have at least 2 distinct characters"}
	}
	return b.String(), nil
}

// check validates the pattern for n codes and returns its alphabet, prefix, suffix and random
// length.
func (p Pattern) check(n int) (alphabet, prefix, suffix string, length int, err error) {
	if n < 1 {
		return "", "", "", 0, &PatternError{Field: "count", Message: "must be at least 1"}
	}
	prefix, suffix = strings.ToUpper(p.Prefix), strings.ToUpper(p.Suffix)
	for _, f := range []struct{ name, v string }{{"prefix", prefix}, {"suffix", suffix}} {
		for i := 0; i < len(f.v); i++ {
			if !isCodeChar(f.v[i]) {
				return "", "", "", 0, &PatternError{Field: f.name, Message: "must contain only letters and digits"}
			}
		}
	}
	length = p.Length
	if length == 0 {
		length = DefaultLength
	}
	room := MaxCodeLength - len(prefix) - len(suffix)
	if room < MinRandomLength {
		return "", "", "", 0, &PatternError{Field: "prefix", Message: fmt.Sprintf("prefix and suffix together must leave room for %d random characters (at most %d characters)", MinRandomLength, MaxCodeLength-MinRandomLength)}
	}
	if length < MinRandomLength || length > room {
		return "", "", "", 0, &PatternError{Field: "length", Message: fmt.Sprintf("must be between %d and %d (codes are at most %d characters, prefix and suffix included)", MinRandomLength, room, MaxCodeLength)}
	}
	if alphabet, err = p.Alphabet(); err != nil {
		return "", "", "", 0, err
	}
	// The pattern must allow at least twice as many codes as asked for, so that drawing
	// unique ones stays quick (and codes stay hard to guess).
	space, need := 1, 2*n
	for range length {
		if space >= need {
			break
		}
		space *= len(alphabet)
	}
	if space < need {
		return "", "", "", 0, &PatternError{Field: "length", Message: fmt.Sprintf("%d characters from a set of %d allow %d codes; %d codes need at least %d possible: use a longer length or a larger charset", length, len(alphabet), space, n, need)}
	}
	return alphabet, prefix, suffix, length, nil
}

// Generate returns n distinct codes of the pattern, each random character drawn uniformly
// (rejection sampling of bytes) from random, which is crypto/rand.Reader when nil. A request
// the pattern cannot meet (including fewer than 2n possible codes) is a *PatternError.
func Generate(p Pattern, n int, random io.Reader) ([]string, error) {
	alphabet, prefix, suffix, length, err := p.check(n)
	if err != nil {
		return nil, err
	}
	if random == nil {
		random = rand.Reader
	}
	k := len(alphabet)
	// Bytes at or above limit are rejected, so that every character is equally likely.
	limit := 256 - 256%k
	src := byteSource{r: random, buf: make([]byte, 4096)}
	codes := make([]string, 0, n)
	seen := make(map[string]struct{}, n)
	code := make([]byte, len(prefix)+length+len(suffix))
	copy(code, prefix)
	copy(code[len(prefix)+length:], suffix)
	// The space is at least 2n, so a draw repeats with probability below 1/2: running out of
	// attempts means the source is not random.
	for attempts := 0; len(codes) < n; attempts++ {
		if attempts > 20*n+100 {
			return nil, fmt.Errorf("%w: too many repeated codes", ErrRandom)
		}
		for i := range length {
			b, err := src.below(limit)
			if err != nil {
				return nil, err
			}
			code[len(prefix)+i] = alphabet[int(b)%k]
		}
		s := string(code)
		if _, dup := seen[s]; dup {
			continue
		}
		seen[s] = struct{}{}
		codes = append(codes, s)
	}
	return codes, nil
}

// byteSource reads random bytes in blocks.
type byteSource struct {
	r    io.Reader
	buf  []byte
	next int
	end  int
	// rejected counts bytes refused in a row, to stop on a source that never yields a
	// usable byte.
	rejected int
}

// below returns the next byte less than limit.
func (s *byteSource) below(limit int) (byte, error) {
	for {
		if s.next == s.end {
			n, err := io.ReadFull(s.r, s.buf)
			if n == 0 {
				if err == nil {
					err = io.ErrUnexpectedEOF
				}
				return 0, fmt.Errorf("%w: %w", ErrRandom, err)
			}
			s.next, s.end = 0, n
		}
		b := s.buf[s.next]
		s.next++
		if int(b) < limit {
			s.rejected = 0
			return b, nil
		}
		if s.rejected++; s.rejected > 1<<16 {
			return 0, fmt.Errorf("%w: no usable bytes", ErrRandom)
		}
	}
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func isCodeChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
