package liquid

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/kalcifer/kalcifer"
)

// CheckContent checks a template's content for its channel: its shape
// (kalcifer.TemplateContent.Check) and the Liquid of every field. The
// problems are one EUNPROCESSABLE error, each detail naming the field and,
// for Liquid, the line and column.
func (e *Engine) CheckContent(ch kalcifer.Channel, c kalcifer.TemplateContent) error {
	problems := c.Check(ch)
	fields := c.Fields()
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if err := e.Check(fields[name]); err != nil {
			problems = append(problems, detail(name, err))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: "the template is invalid: " + summary(problems), Details: problems}
}

// RenderContent renders every field of a template's content with vars.
// An email without text gets the text of its rendered HTML. Strict renders
// (sends) fail on a missing required variable; lenient ones (previews)
// return warnings naming the field. A failed render is an EUNPROCESSABLE
// error naming the field, line and column.
func (e *Engine) RenderContent(ctx context.Context, ch kalcifer.Channel, c kalcifer.TemplateContent, vars map[string]any, strict bool) (kalcifer.TemplateContent, []Warning, error) {
	var out kalcifer.TemplateContent
	var warnings []Warning
	var problems []kalcifer.Detail
	fields := c.Fields()
	rendered := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		tpl, err := e.Parse(fields[name])
		if err == nil {
			var ws []Warning
			rendered[name], ws, err = tpl.Render(ctx, vars, strict)
			for _, w := range ws {
				w.Field = name
				warnings = append(warnings, w)
			}
		}
		if err != nil {
			problems = append(problems, detail(name, err))
		}
	}
	if len(problems) > 0 {
		return out, warnings, &kalcifer.Error{Code: kalcifer.EUNPROCESSABLE, Message: "the template did not render: " + summary(problems), Details: problems}
	}
	out = kalcifer.TemplateContent{Subject: rendered["subject"], HTML: rendered["html"], Text: rendered["text"],
		Body: rendered["body"], Title: rendered["title"]}
	if ch == kalcifer.ChannelEmail && out.Text == "" && out.HTML != "" {
		out.Text = HTMLToText(out.HTML)
	}
	for k := range c.Data {
		if out.Data == nil {
			out.Data = map[string]string{}
		}
		out.Data[k] = rendered["data."+k]
	}
	return out, warnings, nil
}

// detail names a field's problem for an API error.
func detail(field string, err error) kalcifer.Detail {
	var le *Error
	if errors.As(err, &le) {
		return kalcifer.Detail{Field: field, Line: le.Line, Column: le.Column, Message: le.Error()}
	}
	return kalcifer.Detail{Field: field, Message: err.Error()}
}

func summary(problems []kalcifer.Detail) string {
	s := fmt.Sprintf("%s: %s", problems[0].Field, problems[0].Message)
	if len(problems) > 1 {
		s += fmt.Sprintf(" (and %d more)", len(problems)-1)
	}
	return s
}
