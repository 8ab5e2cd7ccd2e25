package python

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
)

// Coverage is the total of a Cobertura report, as coverage.py writes it
// (pytest --cov-report=xml).
type Coverage struct {
	LinesValid, LinesCovered       int64
	BranchesValid, BranchesCovered int64
}

// Percent is coverage.py's total: covered lines and branches over all
// lines and branches measured, as "coverage report" prints it. A report
// that measured nothing is 0: nothing was shown to be tested.
func (c Coverage) Percent() float64 {
	total := c.LinesValid + c.BranchesValid
	if total <= 0 {
		return 0
	}
	return 100 * float64(c.LinesCovered+c.BranchesCovered) / float64(total)
}

type coberturaRoot struct {
	XMLName         xml.Name `xml:"coverage"`
	LinesValid      *int64   `xml:"lines-valid,attr"`
	LinesCovered    *int64   `xml:"lines-covered,attr"`
	BranchesValid   int64    `xml:"branches-valid,attr"`
	BranchesCovered int64    `xml:"branches-covered,attr"`
}

// maxReportSize bounds the XML reports paved reads.
const maxReportSize = 256 << 20

// ParseCoverage reads the totals of a Cobertura XML report. It reads the
// root element's lines-valid, lines-covered, branches-valid and
// branches-covered attributes; a report without the line counts, with a
// negative count or with more covered than valid is an error.
func ParseCoverage(r io.Reader) (Coverage, error) {
	dec := xml.NewDecoder(io.LimitReader(r, maxReportSize))
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Coverage{}, errors.New("cobertura: no <coverage> element")
			}
			return Coverage{}, fmt.Errorf("cobertura: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local != "coverage" {
			return Coverage{}, fmt.Errorf("cobertura: root element is <%s>, want <coverage>", se.Name.Local)
		}
		var root coberturaRoot
		// Only the attributes matter; skip the per-file detail.
		for _, a := range se.Attr {
			var dst *int64
			switch a.Name.Local {
			case "lines-valid":
				root.LinesValid = new(int64)
				dst = root.LinesValid
			case "lines-covered":
				root.LinesCovered = new(int64)
				dst = root.LinesCovered
			case "branches-valid":
				dst = &root.BranchesValid
			case "branches-covered":
				dst = &root.BranchesCovered
			default:
				continue
			}
			if _, err := fmt.Sscan(a.Value, dst); err != nil {
				return Coverage{}, fmt.Errorf("cobertura: %s=%q is not a count", a.Name.Local, a.Value)
			}
		}
		if root.LinesValid == nil || root.LinesCovered == nil {
			return Coverage{}, errors.New("cobertura: <coverage> lacks lines-valid or lines-covered")
		}
		c := Coverage{LinesValid: *root.LinesValid, LinesCovered: *root.LinesCovered, BranchesValid: root.BranchesValid, BranchesCovered: root.BranchesCovered}
		if c.LinesValid < 0 || c.LinesCovered < 0 || c.BranchesValid < 0 || c.BranchesCovered < 0 {
			return Coverage{}, errors.New("cobertura: a negative count")
		}
		if c.LinesCovered > c.LinesValid || c.BranchesCovered > c.BranchesValid {
			return Coverage{}, errors.New("cobertura: more lines or branches covered than measured")
		}
		return c, nil
	}
}

// coverageOf reads the report at path.
func coverageOf(path string) (Coverage, error) {
	f, err := os.Open(path)
	if err != nil {
		return Coverage{}, err
	}
	defer f.Close()
	c, err := ParseCoverage(f)
	if err != nil {
		return Coverage{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
