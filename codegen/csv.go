package codegen

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The CSV format of code lists, read by ParseCSV and written by WriteCSV and Writer:
//
//	code,customer_id,single_use
//	SUMMER24A,,true
//	VIP7,gid://shopify/Customer/1234,
//
// The header line is optional when the columns come in this order; with a header they may
// come in any order and only code is required. The first non-blank line is taken as a header
// when any of its fields is a column name. customer_id is empty (any customer) or a
// gid://shopify/Customer/N id; single_use is true, false, 1, 0 or empty (false). Each line is
// one row (quoted fields are allowed, but a field cannot span lines); blank lines are skipped.

// Column names.
const (
	ColumnCode       = "code"
	ColumnCustomerID = "customer_id"
	ColumnSingleUse  = "single_use"
)

// headerRecord is the header line the Writer writes.
func headerRecord() []string { return []string{ColumnCode, ColumnCustomerID, ColumnSingleUse} }

// maxLineBytes bounds a line that is parsed at all; longer ones are reported.
const maxLineBytes = 4096

// Row is one code of a list. Line is its line in the file it was read from (1-based), or 0.
type Row struct {
	Line       int
	Code       string // upper-case, trimmed
	CustomerID string // "" for any customer
	SingleUse  bool
}

// RowProblem is one problem with one row: Field is a column name, or "line" for the row as a
// whole.
type RowProblem struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ParseCSV reads a code list. Every non-blank line after the header ends up either in rows
// (valid) or in report (one or more problems naming its line), never both: it never stops at
// the first bad row. A code repeated in the file (case-insensitively) is reported on its
// later lines. A read error from r is reported on the line it interrupted.
func ParseCSV(r io.Reader) (rows []Row, report []RowProblem) {
	br := bufio.NewReader(r)
	cols := columns{code: 0, customer: 1, singleUse: 2, n: 3}
	first := true
	seen := make(map[string]int)
	for line := 1; ; line++ {
		text, err := br.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			report = append(report, RowProblem{Line: line, Field: "line", Message: "could not be read"})
			return rows, report
		}
		if text == "" && err != nil {
			return rows, report
		}
		text = strings.TrimRight(text, "\r\n")
		if first {
			text = strings.TrimPrefix(text, "\ufeff") // a byte order mark, as spreadsheets write
		}
		if strings.TrimSpace(text) != "" {
			fields, problem := splitLine(text)
			// The first line is a header when it names a column (so a code cannot be
			// "code" on the first line of a file without a header).
			isHeader := first && problem == "" &&
				(hasColumn(fields, ColumnCode) || hasColumn(fields, ColumnCustomerID) || hasColumn(fields, ColumnSingleUse))
			first = false
			switch {
			case problem != "":
				report = append(report, RowProblem{Line: line, Field: "line", Message: problem})
			case isHeader:
				var hp []RowProblem
				cols, hp = headerColumns(line, fields)
				report = append(report, hp...)
			default:
				row, ps := cols.row(line, fields, seen)
				if len(ps) > 0 {
					report = append(report, ps...)
				} else {
					rows = append(rows, row)
				}
			}
		}
		if err != nil {
			return rows, report
		}
	}
}

// splitLine reads one line's fields, or says why it cannot.
func splitLine(text string) ([]string, string) {
	if len(text) > maxLineBytes {
		return nil, fmt.Sprintf("is longer than %d bytes", maxLineBytes)
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	fields, err := cr.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, "is not valid CSV: " + pe.Err.Error()
		}
		return nil, "is not valid CSV"
	}
	// A line may hold only one record; a quoted field cannot continue on a later line, and a
	// lone line break inside quotes cannot occur since lines are split first.
	if _, err := cr.Read(); !errors.Is(err, io.EOF) {
		return nil, "is not valid CSV"
	}
	return fields, ""
}

func hasColumn(fields []string, name string) bool {
	for _, f := range fields {
		if strings.EqualFold(strings.TrimSpace(f), name) {
			return true
		}
	}
	return false
}

// columns says where each column is: an index, or -1 when absent.
type columns struct {
	code, customer, singleUse int
	n                         int // fields a row may have
}

// headerColumns reads a header line.
func headerColumns(line int, fields []string) (columns, []RowProblem) {
	cols := columns{code: -1, customer: -1, singleUse: -1, n: len(fields)}
	var problems []RowProblem
	for i, f := range fields {
		name := strings.ToLower(strings.TrimSpace(f))
		var slot *int
		switch name {
		case ColumnCode:
			slot = &cols.code
		case ColumnCustomerID:
			slot = &cols.customer
		case ColumnSingleUse:
			slot = &cols.singleUse
		default:
			problems = append(problems, RowProblem{Line: line, Field: "line", Message: fmt.Sprintf("unknown column %q: the columns are code, customer_id and single_use", f)})
			continue
		}
		if *slot >= 0 {
			problems = append(problems, RowProblem{Line: line, Field: "line", Message: fmt.Sprintf("column %q is given twice", name)})
			continue
		}
		*slot = i
	}
	if cols.code < 0 {
		problems = append(problems, RowProblem{Line: line, Field: "line", Message: "the header has no code column"})
	}
	return cols, problems
}

// row reads and checks one data line; seen maps the codes of earlier lines to their line.
func (cols columns) row(line int, fields []string, seen map[string]int) (Row, []RowProblem) {
	var problems []RowProblem
	add := func(field, format string, args ...any) {
		problems = append(problems, RowProblem{Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	get := func(i int) string {
		if i < 0 || i >= len(fields) {
			return ""
		}
		return strings.TrimSpace(fields[i])
	}
	if len(fields) > cols.n {
		add("line", "has %d fields; expected at most %d", len(fields), cols.n)
	}
	row := Row{Line: line, Code: strings.ToUpper(get(cols.code)), CustomerID: get(cols.customer)}
	if cols.code < 0 {
		add(ColumnCode, "is missing: the header has no code column")
	} else if msg := validCode(row.Code); msg != "" {
		add(ColumnCode, "%s", msg)
	} else if prev, dup := seen[row.Code]; dup {
		add(ColumnCode, "%s is already on line %d", row.Code, prev)
	} else {
		seen[row.Code] = line
	}
	if row.CustomerID != "" && !ValidCustomerID(row.CustomerID) {
		add(ColumnCustomerID, "must be empty or a gid://shopify/Customer/… id")
	}
	switch strings.ToLower(get(cols.singleUse)) {
	case "", "false", "0":
	case "true", "1":
		row.SingleUse = true
	default:
		add(ColumnSingleUse, "must be true, false, 1, 0 or empty")
	}
	return row, problems
}

// validCode checks the code rule (1 to 30 letters and digits) and says what is wrong, or "".
func validCode(code string) string {
	if code == "" {
		return "must not be empty"
	}
	for i := 0; i < len(code); i++ {
		if !isCodeChar(code[i]) {
			return "must contain only letters and digits"
		}
	}
	if len(code) > MaxCodeLength {
		return fmt.Sprintf("must be at most %d characters", MaxCodeLength)
	}
	return ""
}

// ValidCustomerID says whether id is a gid://shopify/Customer/N id, N a positive number.
func ValidCustomerID(id string) bool {
	n, ok := strings.CutPrefix(id, "gid://shopify/Customer/")
	if !ok || n == "" || len(n) > 19 || n[0] == '0' {
		return false
	}
	_, err := strconv.ParseUint(n, 10, 64)
	return err == nil
}

// Writer writes a code list as CSV, the header first; Write may be called once per page.
type Writer struct {
	w      *csv.Writer
	header bool
	rec    []string
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: csv.NewWriter(w), rec: make([]string, 3)}
}

// Write writes rows (and the header, before the first rows).
func (w *Writer) Write(rows []Row) error {
	if err := w.writeHeader(); err != nil {
		return err
	}
	for _, r := range rows {
		w.rec[0], w.rec[1], w.rec[2] = r.Code, r.CustomerID, strconv.FormatBool(r.SingleUse)
		if err := w.w.Write(w.rec); err != nil {
			return fmt.Errorf("codegen: write csv: %w", err)
		}
	}
	return nil
}

// Flush writes the header if nothing was written yet, then flushes.
func (w *Writer) Flush() error {
	if err := w.writeHeader(); err != nil {
		return err
	}
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		return fmt.Errorf("codegen: write csv: %w", err)
	}
	return nil
}

func (w *Writer) writeHeader() error {
	if w.header {
		return nil
	}
	w.header = true
	if err := w.w.Write(headerRecord()); err != nil {
		return fmt.Errorf("codegen: write csv: %w", err)
	}
	return nil
}

// WriteCSV writes codes as a CSV code list with its header line.
func WriteCSV(w io.Writer, codes []Row) error {
	cw := NewWriter(w)
	if err := cw.Write(codes); err != nil {
		return err
	}
	return cw.Flush()
}
