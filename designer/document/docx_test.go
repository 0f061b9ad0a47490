package document

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestParseDocumentXML(t *testing.T) {
	t.Parallel()
	const xml = `<?xml version="1.0"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>Plan</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">v2 </w:t></w:r><w:del><w:r><w:delText>old</w:delText></w:r></w:del></w:p>
<w:p><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>Day 0 – Email</w:t></w:r></w:p>
<w:p><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:p>
<w:tbl>
 <w:tr><w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr><w:p><w:r><w:t>Timing</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Channel</w:t></w:r></w:p></w:tc></w:tr>
 <w:tr><w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>Day 1</w:t></w:r></w:p></w:tc><w:tc><w:p/></w:tc><w:tc><w:p><w:r><w:t>Email</w:t></w:r></w:p><w:p><w:r><w:t>(HTML)</w:t></w:r></w:p></w:tc></w:tr>
 <w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc><w:tc><w:tbl><w:tr><w:tc><w:p><w:r><w:t>nested</w:t></w:r></w:p></w:tc></w:tr></w:tbl><w:p/></w:tc><w:tc><w:p><w:r><w:t>SMS</w:t><w:br/><w:t>only</w:t></w:r></w:p></w:tc></w:tr>
</w:tbl>
<w:p><w:r><w:t>After</w:t></w:r></w:p>
</w:body></w:document>`
	c, err := parseDocumentXML(strings.NewReader(xml), &budget{ctx: context.Background()})
	if err != nil {
		t.Fatal(err)
	}
	wantLines := []string{"Plan\tv2", "- Day 0 – Email", "Timing | Channel", "Day 1 | Email (HTML)", "Day 1 | nested | SMS only", "After"}
	if !slices.Equal(c.lines, wantLines) {
		t.Errorf("lines %q, want %q", c.lines, wantLines)
	}
	wantTable := table{{"Timing", "", "Channel"}, {"Day 1", "", "Email (HTML)"}, {"Day 1", "nested", "SMS only"}}
	if len(c.tables) != 1 || !slices.EqualFunc(c.tables[0], wantTable, slices.Equal) {
		t.Errorf("tables %q, want [%q]", c.tables, wantTable)
	}
}
