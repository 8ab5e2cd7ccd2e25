package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Edit is the outcome of pinning an image in one overlay file.
type Edit struct {
	// Output is the edited file: the input with one line changed (or,
	// where a key had to be added, one line inserted). It is the input
	// itself when Changed is false.
	Output  []byte
	Changed bool
	// Added says the edit added an images: entry to a kustomization that
	// had none for the image: the entry's lines are the whole diff.
	Added bool
	// OldRef is what the overlay pinned before: repo:tag, repo@digest or
	// repo:tag@digest (the repository is the promoted one when the
	// overlay does not name it). NewRef is what it pins now.
	OldRef, NewRef string
}

// document is a parsed overlay file and the splices planned on it. The
// yaml.v3 node tree says where things are; the bytes are edited in place
// so that everything else (comments, order, indentation, quoting, line
// endings) stays as it was.
type document struct {
	src        []byte
	root       *yaml.Node // the top-level mapping
	lineStarts []int      // byte offset of each line; line n starts at lineStarts[n-1]
	bom        int        // length of a leading UTF-8 BOM, which yaml.v3 does not count in columns
	splices    []splice
}

type splice struct {
	start, end int
	text       string
}

// parse reads one YAML document whose top level is a mapping. Line
// breaks must be LF or CRLF: yaml.v3 also breaks lines at a lone CR, NEL,
// LS and PS, which git and editors do not, and a one-line diff is only
// one line if everyone agrees where lines are.
func parse(src []byte) (*document, error) {
	if bytes.HasPrefix(src, []byte("\xff\xfe")) || bytes.HasPrefix(src, []byte("\xfe\xff")) {
		return nil, errors.New("UTF-16 is not supported; save the file as UTF-8")
	}
	if !utf8.Valid(src) {
		return nil, errors.New("not valid UTF-8")
	}
	for i, b := range src {
		if b == '\r' && (i+1 == len(src) || src[i+1] != '\n') {
			return nil, fmt.Errorf("line %d: carriage return without line feed; only LF and CRLF line endings are supported", 1+bytes.Count(src[:i], []byte("\n")))
		}
	}
	for _, r := range []string{"\u0085", "\u2028", "\u2029"} {
		if i := bytes.Index(src, []byte(r)); i >= 0 {
			return nil, fmt.Errorf("line %d: Unicode line separator %U; only LF and CRLF line endings are supported", 1+bytes.Count(src[:i], []byte("\n")), []rune(r)[0])
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, errors.New("the file is empty")
		}
		return nil, fmt.Errorf("parse: %w", err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != io.EOF {
		return nil, errors.New("the file holds several YAML documents; an overlay file has one")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("the file holds no YAML document")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: the top level is a %s, not a mapping", root.Line, kindName(root))
	}
	d := &document{src: src, root: root, lineStarts: []int{0}}
	for i, b := range src {
		if b == '\n' {
			d.lineStarts = append(d.lineStarts, i+1)
		}
	}
	if bytes.HasPrefix(src, []byte("\xef\xbb\xbf")) {
		d.bom = 3
	}
	return d, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}

// lineEnd is the offset of the line break (or end of file) ending the
// line that holds offset i.
func (d *document) lineEnd(i int) int {
	if j := bytes.IndexByte(d.src[i:], '\n'); j >= 0 {
		if j > 0 && d.src[i+j-1] == '\r' {
			j--
		}
		return i + j
	}
	return len(d.src)
}

// offset turns yaml.v3's 1-based line and column (counted in characters)
// into a byte offset.
func (d *document) offset(line, col int) (int, error) {
	if line < 1 || line > len(d.lineStarts) || col < 1 {
		return 0, fmt.Errorf("line %d column %d is outside the file", line, col)
	}
	i := d.lineStarts[line-1]
	if line == 1 {
		i += d.bom
	}
	end := d.lineEnd(i)
	for range col - 1 {
		if i >= end {
			return 0, fmt.Errorf("line %d column %d is outside the line", line, col)
		}
		_, w := utf8.DecodeRune(d.src[i:])
		i += w
	}
	return i, nil
}

// span is the byte range of scalar n's text. Only a scalar written on one
// line, plain or quoted, without tag or anchor, has one: anything else
// cannot be replaced by changing one line, and is refused. An empty plain
// scalar (key: with nothing after it) has an empty span right after its
// key's colon, which is where its text goes.
func (d *document) span(n *yaml.Node, key *yaml.Node) (int, int, error) {
	return d.scalarSpan(n, key, false)
}

// scalarSpan is span; with props, a value's tag and anchor are skipped
// rather than refused (to find where a value ends, not to replace it).
func (d *document) scalarSpan(n *yaml.Node, key *yaml.Node, props bool) (int, int, error) {
	if n.Kind == yaml.AliasNode {
		return 0, 0, fmt.Errorf("line %d: the value is an alias (*%s); pin the image where the anchor is", n.Line, n.Value)
	}
	if n.Kind != yaml.ScalarNode {
		return 0, 0, fmt.Errorf("line %d: the value is a %s, not a scalar", n.Line, kindName(n))
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return 0, 0, fmt.Errorf("line %d: the value is a block scalar; write it on one line", n.Line)
	}
	start, err := d.offset(n.Line, n.Column)
	if err != nil {
		return 0, 0, err
	}
	end := d.lineEnd(start)
	line := d.src[start:end]
	for props && len(line) > 0 && (line[0] == '!' || line[0] == '&') {
		// A property is one token; the value follows after spaces.
		i := bytes.IndexAny(line, " \t")
		if i < 0 {
			return 0, 0, fmt.Errorf("line %d: the value is not on its tag's or anchor's line", n.Line)
		}
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		start, line = start+i, line[i:]
	}
	if len(line) > 0 && (line[0] == '!' || line[0] == '&' || line[0] == '*') {
		return 0, 0, fmt.Errorf("line %d: the value has a tag or an anchor; remove it so the value can be changed in place", n.Line)
	}
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		if len(line) == 0 || line[0] != '"' {
			break
		}
		for i := 1; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '"':
				return start, start + i + 1, nil
			}
		}
		return 0, 0, fmt.Errorf("line %d: the quoted value spans several lines; write it on one line", n.Line)
	case n.Style&yaml.SingleQuotedStyle != 0:
		if len(line) == 0 || line[0] != '\'' {
			break
		}
		for i := 1; i < len(line); i++ {
			if line[i] == '\'' {
				if i+1 < len(line) && line[i+1] == '\'' {
					i++
					continue
				}
				return start, start + i + 1, nil
			}
		}
		return 0, 0, fmt.Errorf("line %d: the quoted value spans several lines; write it on one line", n.Line)
	case n.Value == "" && n.Tag == "!!null" && key != nil:
		// Nothing written: the text goes after the key's colon.
		_, kend, err := d.span(key, nil)
		if err != nil {
			return 0, 0, err
		}
		i := kend
		for i < len(d.src) && (d.src[i] == ' ' || d.src[i] == '\t') {
			i++
		}
		if i < len(d.src) && d.src[i] == ':' {
			return i + 1, i + 1, nil
		}
	case n.Value != "" && !strings.ContainsAny(n.Value, "\r\n"):
		// A plain scalar on one line is its own text.
		if bytes.HasPrefix(line, []byte(n.Value)) {
			return start, start + len(n.Value), nil
		}
		return 0, 0, fmt.Errorf("line %d: the value spans several lines; write it on one line", n.Line)
	}
	return 0, 0, fmt.Errorf("line %d: cannot find the value's text", n.Line)
}

// setScalar plans replacing scalar n (the value of key, if any) with s,
// quoted as n was, and updates the tree to match.
func (d *document) setScalar(n, key *yaml.Node, s string) error {
	start, end, err := d.span(n, key)
	if err != nil {
		return err
	}
	text := quote(n.Style, s)
	if start == end {
		// After "key:" with nothing written, one space goes before the
		// value; one that is there already is reused unless the value
		// would then touch a comment's #.
		if start < len(d.src) && d.src[start] == ' ' && (start+1 == len(d.src) || d.src[start+1] != '#') {
			start++
			end++
		} else {
			text = " " + s
		}
	}
	d.splices = append(d.splices, splice{start, end, text})
	n.Value, n.Tag = s, "!!str"
	return nil
}

// quote writes s in n's style. s is a safe plain scalar (Image.Validate
// makes sure), so no escaping is ever needed.
func quote(style yaml.Style, s string) string {
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		return `"` + s + `"`
	case style&yaml.SingleQuotedStyle != 0:
		return "'" + s + "'"
	}
	return s
}

// addPair plans inserting "key: value" as a new line at the end of block
// mapping m, indented like its keys, and updates the tree to match. The
// mapping's last value must end its line, so the new line goes right
// after it.
func (d *document) addPair(m *yaml.Node, key, value string) error {
	if m.Style&yaml.FlowStyle != 0 {
		return fmt.Errorf("line %d: cannot add %s to a {flow} mapping; write it in block style", m.Line, key)
	}
	// The last pair read from the file: pairs added before this one have
	// no position, and go in the same place.
	last := len(m.Content) - 2
	for last >= 0 && m.Content[last].Line == 0 {
		last -= 2
	}
	if last < 0 {
		return fmt.Errorf("line %d: cannot add %s to an empty mapping", m.Line, key)
	}
	lastKey, lastValue := m.Content[last], m.Content[last+1]
	_, end, err := d.span(lastValue, lastKey)
	if err != nil {
		return fmt.Errorf("cannot add %s after the entry's last field: %w", key, err)
	}
	if lastKey.Column < 1 {
		return fmt.Errorf("line %d: cannot add %s: no indentation to copy", m.Line, key)
	}
	eol := "\n"
	at := d.lineEnd(end)
	if at > 0 && at < len(d.src) && d.src[at] == '\r' {
		eol = "\r\n"
	} else if at == len(d.src) && bytes.Contains(d.src, []byte("\r\n")) {
		eol = "\r\n"
	}
	line := strings.Repeat(" ", lastKey.Column-1) + key + ": " + value
	if at == len(d.src) {
		// The last line has no line break: give it one, and keep the
		// file without a final one.
		d.splices = append(d.splices, splice{at, at, eol + line})
	} else {
		at += len(eol)
		d.splices = append(d.splices, splice{at, at, line + eol})
	}
	m.Content = append(m.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value})
	return nil
}

// renameKey plans replacing key k's text with name, on its own line only.
func (d *document) renameKey(k *yaml.Node, name string) error {
	return d.setScalar(k, nil, name)
}

// apply performs the planned splices and checks the result: it must
// parse to exactly the tree the plan described (same structure, values,
// tags and styles; only comments are not compared). Anything else means
// the text was not what the tree said, and the file is left alone.
func (d *document) apply() ([]byte, error) {
	sp := slices.Clone(d.splices)
	slices.SortStableFunc(sp, func(a, b splice) int { return a.start - b.start })
	var out []byte
	last := 0
	for _, s := range sp {
		if s.start < last {
			return nil, errors.New("internal: overlapping edits")
		}
		out = append(out, d.src[last:s.start]...)
		out = append(out, s.text...)
		last = s.end
	}
	out = append(out, d.src[last:]...)
	got, err := parse(out)
	if err != nil {
		return nil, fmt.Errorf("cannot edit the file in place: the result would not parse (%v)", err)
	}
	if path, ok := sameTree(d.root, got.root, ""); !ok {
		return nil, fmt.Errorf("cannot edit the file in place: the result would differ at %s", strings.TrimPrefix(path, "."))
	}
	return out, nil
}

// styleMask is the part of a node's style that changes what it means.
const styleMask = yaml.TaggedStyle | yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle | yaml.FlowStyle

// sameTree compares two trees by meaning and form, not position or
// comments, and says where they first differ.
func sameTree(a, b *yaml.Node, path string) (string, bool) {
	if a.Kind != b.Kind || a.ShortTag() != b.ShortTag() || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.Style&styleMask != b.Style&styleMask || len(a.Content) != len(b.Content) {
		if path == "" {
			path = "the top level"
		}
		return path, false
	}
	if a.Kind == yaml.AliasNode {
		return "", true
	}
	for i := range a.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		if a.Kind == yaml.MappingNode {
			p = path + "." + a.Content[i&^1].Value
		}
		if p, ok := sameTree(a.Content[i], b.Content[i], p); !ok {
			return p, false
		}
	}
	return "", true
}

// field finds key in mapping m: its key and value nodes, or nils. A key
// given twice, or a merge key (whose fields this package cannot see
// through), is an error.
func field(m *yaml.Node, key string) (k, v *yaml.Node, err error) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		kn := m.Content[i]
		if kn.Kind != yaml.ScalarNode {
			continue
		}
		if kn.ShortTag() == "!!merge" {
			return nil, nil, fmt.Errorf("line %d: the mapping uses a merge key (<<); write the fields out", kn.Line)
		}
		if kn.Value == key {
			if k != nil {
				return nil, nil, fmt.Errorf("line %d: %s is given twice (first on line %d)", kn.Line, key, k.Line)
			}
			k, v = kn, m.Content[i+1]
		}
	}
	return k, v, nil
}

// text is a field's scalar value, or "" when it is missing, null or not a
// scalar.
func text(v *yaml.Node) string {
	if v == nil || v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
		return ""
	}
	return v.Value
}
