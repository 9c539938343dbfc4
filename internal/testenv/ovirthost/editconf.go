package ovirthost

import (
	"regexp"
	"strings"
)

// editConfigContent mirrors ovirt_engine_setup/util.py editConfigContent
// as apache/ssl.py calls it (separator_re='\s+', new_line_tpl='{spaces}
// {param} {value}', the default comment_re and new_comment_tpl): a
// parameter set on an uncommented line is commented out and followed by a
// line with the new value; a parameter present only in a comment gets the
// new line after the comment; a missing one is appended. It returns the
// new lines and the changes as setup records them, in the same order.
func editConfigContent(content []string, params [][2]string) ([]string, []lineChange) {
	re := regexp.MustCompile(`^(?P<spaces>\s*)(?P<comment>[#]*\s*)(?P<original>(?P<param>\w+)(?P<separator>\s+)(?P<value>.*))$`)
	value := map[string]string{}
	for _, p := range params {
		value[p[0]] = p[1]
	}
	uncommented := map[string]bool{}
	for _, line := range content {
		if m := re.FindStringSubmatch(line); m != nil {
			if _, ok := value[m[4]]; ok && m[2] == "" {
				uncommented[m[4]] = true
			}
		}
	}
	var out []string
	var changes []lineChange
	processed := map[string]bool{}
	for _, line := range content {
		m := re.FindStringSubmatch(line)
		if m == nil {
			out = append(out, line)
			continue
		}
		spaces, comment, original, param, current := m[1], m[2], m[3], m[4], m[6]
		required, wanted := value[param]
		newLine := spaces + param + " " + required
		switch {
		case uncommented[param] && comment == "":
			if current == required {
				out = append(out, line)
			} else {
				commented := spaces + "# " + original
				changes = append(changes, replaced(commented, line))
				out = append(out, commented)
				if !processed[param] {
					changes = append(changes, added(newLine))
					out = append(out, newLine)
				}
			}
			processed[param] = true
		case wanted && !processed[param] && !uncommented[param]:
			out = append(out, line, newLine)
			changes = append(changes, added(newLine))
			processed[param] = true
		default:
			out = append(out, line)
		}
	}
	for _, p := range params {
		if !processed[p[0]] {
			l := p[0] + " " + p[1]
			out = append(out, l)
			changes = append(changes, added(l))
		}
	}
	return out, changes
}

// splitLines is Python's str.splitlines for text without \r.
func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
