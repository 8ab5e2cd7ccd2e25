package gitops

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// addKustomizeImage plans the images: entry for an image the overlay does
// not list yet: name (what the bases' workloads say), newName when the
// promoted repository is another, and digest. The entry's lines are
// inserted and nothing else changes:
//
//   - in an images: list written in block style, after its last entry,
//     with the dash and the fields indented as that entry's;
//   - under an images: key with nothing after it (but a comment);
//   - with no images: key, under a new one at the end of the top-level
//     mapping, after any comments that close the file, with the dash
//     indented as the file's other lists are.
//
// A {flow} images: list, or an images: key whose value is written (~,
// null), is refused: adding to it would rewrite a line.
func addKustomizeImage(d *document, images *yaml.Node, name string, img Image) (*Edit, error) {
	if !repositoryRE.MatchString(name) {
		return nil, fmt.Errorf("image name %q is not an image name as workloads write it (want e.g. app or ghcr.io/acme/api, no tag or digest)", name)
	}
	fields := [][2]string{{"name", name}}
	if name != img.Repository {
		fields = append(fields, [2]string{"newName", img.Repository})
	}
	fields = append(fields, [2]string{"digest", img.Digest})
	entry := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i, f := range fields {
		v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f[1]}
		if !plainString(f[1]) {
			// 123 or 1.5 would be read as a number: quote it.
			v.Style = yaml.DoubleQuotedStyle
			fields[i][1] = quote(v.Style, f[1])
		}
		entry.Content = append(entry.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f[0]}, v)
	}
	if d.root.Style&yaml.FlowStyle != 0 {
		return nil, fmt.Errorf("line %d: the file is a {flow} mapping; write it in block style to add an images: entry", d.root.Line)
	}
	keyCol := d.root.Content[0].Column
	var after int // the entry's lines go after this line
	var dash string
	switch {
	case images == nil:
		last, err := d.lastLine(d.root, nil)
		if err != nil {
			return nil, fmt.Errorf("cannot add images: at the end of the file: %w", err)
		}
		after = d.closingComments(last)
		dash = strings.Repeat(" ", keyCol-1) + d.listIndent() + "- "
		if err := d.insertLines(after, append([]string{strings.Repeat(" ", keyCol-1) + "images:"}, entryLines(dash, fields)...)); err != nil {
			return nil, err
		}
		d.root.Content = append(d.root.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "images"},
			&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{entry}})
	case images.Kind == yaml.ScalarNode:
		// A null: nothing may be written after the key but a comment.
		k, _, _ := field(d.root, "images")
		if images.Value != "" {
			return nil, fmt.Errorf("line %d: images: is %s; leave it empty or write a list to add an entry", images.Line, images.Value)
		}
		_, kend, err := d.span(k, nil)
		if err != nil {
			return nil, err
		}
		if rest := d.src[kend:d.lineEnd(kend)]; !emptyValueRE.Match(rest) {
			return nil, fmt.Errorf("line %d: cannot add an entry after images:%s", k.Line, rest)
		}
		after = k.Line
		dash = strings.Repeat(" ", k.Column-1) + d.listIndent() + "- "
		if err := d.insertLines(after, entryLines(dash, fields)); err != nil {
			return nil, err
		}
		for i := 1; i < len(d.root.Content); i += 2 {
			if d.root.Content[i] == images {
				d.root.Content[i] = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{entry}}
			}
		}
	default:
		if images.Style&yaml.FlowStyle != 0 {
			return nil, fmt.Errorf("line %d: images: is a [flow] list; write it in block style to add an entry", images.Line)
		}
		last := images.Content[len(images.Content)-1]
		var err error
		if after, err = d.lastLine(images, nil); err != nil {
			return nil, fmt.Errorf("cannot add an entry after the last images: entry: %w", err)
		}
		dash = strings.Repeat(" ", images.Column-1) + "- "
		// The last entry's own indentation, when its first field is on its
		// dash's line.
		if at, err := d.offset(last.Line, last.Column); err == nil {
			ls := d.lineStarts[last.Line-1]
			if last.Line == 1 {
				ls += d.bom
			}
			if entryDashRE.Match(d.src[ls:at]) {
				dash = string(d.src[ls:at])
			}
		}
		if err := d.insertLines(after, entryLines(dash, fields)); err != nil {
			return nil, err
		}
		images.Content = append(images.Content, entry)
	}
	return d.result(&Edit{NewRef: img.Ref(), Added: true})
}

// plainString says whether s, written plain, is read as the string s
// (not a number, a boolean or null).
func plainString(s string) bool {
	var n yaml.Node
	return yaml.Unmarshal([]byte(s), &n) == nil && len(n.Content) == 1 && n.Content[0].ShortTag() == "!!str" && n.Content[0].Value == s
}

var (
	emptyValueRE = regexp.MustCompile(`^[ \t]*:[ \t]*(#.*)?$`)
	entryDashRE  = regexp.MustCompile(`^ *-[ ]+$`)
)

// entryLines are an images: entry's lines, the first after dash and the
// others aligned with it.
func entryLines(dash string, fields [][2]string) []string {
	lines := make([]string, len(fields))
	pad := strings.Repeat(" ", len(dash))
	for i, f := range fields {
		p := pad
		if i == 0 {
			p = dash
		}
		lines[i] = p + f[0] + ": " + f[1]
	}
	return lines
}

// listIndent is how far the file indents a block list under its key: the
// most common among the top-level keys' lists, else none, as kustomize
// writes them.
func (d *document) listIndent() string {
	count := map[int]int{}
	for i := 0; i+1 < len(d.root.Content); i += 2 {
		k, v := d.root.Content[i], d.root.Content[i+1]
		if v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle == 0 && v.Line > k.Line && v.Column >= k.Column {
			count[v.Column-k.Column]++
		}
	}
	best, n := 0, 0
	for _, ind := range sortedKeys(count) {
		if count[ind] > n {
			best, n = ind, count[ind]
		}
	}
	return strings.Repeat(" ", best)
}

func sortedKeys(m map[int]int) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// lastLine is the line on which node n's text ends: the line of its last
// scalar, or of a {flow} collection written on one line. key is n's key
// when n is a mapping value. A block scalar, or a value over several
// lines, has no end this package can find, and is an error.
func (d *document) lastLine(n, key *yaml.Node) (int, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return n.Line, nil
	case yaml.ScalarNode:
		if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			return 0, fmt.Errorf("line %d: the value before it is a block scalar, whose end cannot be found without rewriting it", n.Line)
		}
		if n.Value == "" && n.Tag == "!!null" && key == nil && n.Style == 0 {
			return n.Line, nil
		}
		_, end, err := d.scalarSpan(n, key, true)
		if err != nil {
			return 0, err
		}
		return d.lineOf(end), nil
	}
	if n.Style&yaml.FlowStyle != 0 {
		return d.flowEnd(n)
	}
	if len(n.Content) == 0 {
		return 0, fmt.Errorf("line %d: an empty %s", n.Line, kindName(n))
	}
	last := n.Content[len(n.Content)-1]
	var k *yaml.Node
	if n.Kind == yaml.MappingNode {
		k = n.Content[len(n.Content)-2]
	}
	return d.lastLine(last, k)
}

// lineOf is the 1-based line holding byte offset i.
func (d *document) lineOf(i int) int {
	return sort.Search(len(d.lineStarts), func(l int) bool { return d.lineStarts[l] > i })
}

// flowEnd is the line of a {flow} collection that opens and closes on one
// line; one over several lines is an error.
func (d *document) flowEnd(n *yaml.Node) (int, error) {
	start, err := d.offset(n.Line, n.Column)
	if err != nil {
		return 0, err
	}
	line := d.src[start:d.lineEnd(start)]
	// Skip a tag or an anchor.
	for len(line) > 0 && (line[0] == '!' || line[0] == '&') {
		i := bytes.IndexAny(line, " \t")
		if i < 0 {
			break
		}
		line = bytes.TrimLeft(line[i:], " \t")
	}
	depth := 0
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case '[', '{':
			depth++
		case ']', '}':
			if depth--; depth == 0 {
				return n.Line, nil
			}
		case '"':
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' {
					i++
				}
			}
		case '\'':
			for i++; i < len(line); i++ {
				if line[i] == '\'' {
					if i+1 < len(line) && line[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '#':
			if i > 0 && (line[i-1] == ' ' || line[i-1] == '\t') {
				i = len(line)
			}
		}
	}
	return 0, fmt.Errorf("line %d: a {flow} collection over several lines, whose end cannot be found without rewriting it", n.Line)
}

// closingComments is the last line of the comments that follow line
// last, the end of the document's content, before any document end
// marker: the file's closing remarks stay above what is added.
func (d *document) closingComments(last int) int {
	after := last
	for l := last + 1; l <= len(d.lineStarts); l++ {
		start := d.lineStarts[l-1]
		t := bytes.TrimSpace(d.src[start:d.lineEnd(start)])
		switch {
		case len(t) == 0:
		case t[0] == '#':
			after = l
		default:
			return after
		}
	}
	return after
}

// insertLines plans inserting lines after line n (1-based), with the
// line break the file uses there.
func (d *document) insertLines(n int, lines []string) error {
	if n < 1 || n > len(d.lineStarts) {
		return fmt.Errorf("line %d is outside the file", n)
	}
	end := d.lineEnd(d.lineStarts[n-1])
	eol := "\n"
	if end < len(d.src) && d.src[end] == '\r' || end == len(d.src) && bytes.Contains(d.src, []byte("\r\n")) {
		eol = "\r\n"
	}
	text := strings.Join(lines, eol)
	if end == len(d.src) {
		// The last line has no line break: give it one, and keep the file
		// without a final one.
		d.splices = append(d.splices, splice{end, end, eol + text})
		return nil
	}
	at := end + len(eol)
	d.splices = append(d.splices, splice{at, at, text + eol})
	return nil
}
