package storetest

import (
	"context"
	"testing"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/store"
)

func testTemplates(t *testing.T, s *store.Store) {
	ctx := context.Background()
	email := kalcifer.TemplateContent{Subject: "Hi {{ customer.first_name }}", HTML: "<p>Welcome</p>"}
	tpl := &kalcifer.Template{TenantID: "default", Name: "welcome", Channel: kalcifer.ChannelEmail, TemplateContent: email}
	must(t, s.CreateTemplate(ctx, actor, tpl))
	if tpl.ID == "" || tpl.Version != 1 {
		t.Fatalf("created %+v", tpl)
	}

	// Refused: a taken name, a bad shape, bad Liquid, a name like an id.
	wantCode(t, s.CreateTemplate(ctx, actor, &kalcifer.Template{TenantID: "default", Name: "welcome",
		Channel: kalcifer.ChannelSMS, TemplateContent: kalcifer.TemplateContent{Body: "x"}}), kalcifer.ECONFLICT)
	wantCode(t, s.CreateTemplate(ctx, actor, &kalcifer.Template{TenantID: "default", Name: "sms",
		Channel: kalcifer.ChannelSMS, TemplateContent: email}), kalcifer.EUNPROCESSABLE)
	err := s.CreateTemplate(ctx, actor, &kalcifer.Template{TenantID: "default", Name: "sms",
		Channel: kalcifer.ChannelSMS, TemplateContent: kalcifer.TemplateContent{Body: "Hi\n{{ customer.x | nope }}"}})
	wantCode(t, err, kalcifer.EUNPROCESSABLE)
	if d := err.(*kalcifer.Error).Details; len(d) != 1 || d[0].Field != "body" || d[0].Line != 2 || d[0].Column != 17 {
		t.Errorf("details %+v", d)
	}
	wantCode(t, s.CreateTemplate(ctx, actor, &kalcifer.Template{TenantID: "default", Name: "tpl_x",
		Channel: kalcifer.ChannelSMS, TemplateContent: kalcifer.TemplateContent{Body: "x"}}), kalcifer.EUNPROCESSABLE)

	// Every update is a new version; earlier ones stay readable.
	name := "welcome-2"
	upd, err := s.UpdateTemplate(ctx, store.UpdateTemplateParams{Actor: actor, TenantID: "default", TemplateID: tpl.ID,
		Name: &name, Content: kalcifer.TemplateContent{Subject: "Hello", Text: "Plain"}})
	must(t, err)
	if upd.Version != 2 || upd.Name != name || upd.HTML != "" || upd.Text != "Plain" {
		t.Fatalf("updated %+v", upd)
	}
	got, err := s.GetTemplate(ctx, "default", tpl.ID)
	must(t, err)
	if got.Version != 2 || got.Subject != "Hello" || got.Channel != kalcifer.ChannelEmail {
		t.Fatalf("got %+v", got)
	}
	_, err = s.UpdateTemplate(ctx, store.UpdateTemplateParams{Actor: actor, TenantID: "default", TemplateID: tpl.ID,
		Content: kalcifer.TemplateContent{Subject: "{% if %}", Text: "x"}})
	wantCode(t, err, kalcifer.EUNPROCESSABLE)
	versions, err := s.TemplateVersions(ctx, "default", tpl.ID)
	must(t, err)
	if len(versions) != 2 || versions[0].Version != 2 || versions[1].HTML != "<p>Welcome</p>" || versions[1].Author != actor {
		t.Fatalf("versions %+v", versions)
	}
	v1, err := s.TemplateVersion(ctx, "default", tpl.ID, 1)
	must(t, err)
	if v1.Subject != email.Subject {
		t.Errorf("version 1 %+v", v1)
	}

	// Listing, by channel too.
	push := &kalcifer.Template{TenantID: "default", Name: "push", Channel: kalcifer.ChannelPush,
		TemplateContent: kalcifer.TemplateContent{Title: "T", Body: "B", Data: map[string]string{"url": "/o/{{ event.data.id }}"}}}
	must(t, s.CreateTemplate(ctx, actor, push))
	page, err := s.ListTemplates(ctx, kalcifer.TemplateFilter{TenantID: "default", Limit: 1})
	must(t, err)
	if len(page.Data) != 1 || page.Data[0].ID != push.ID || page.NextCursor == "" {
		t.Fatalf("page %+v", page)
	}
	page, err = s.ListTemplates(ctx, kalcifer.TemplateFilter{TenantID: "default", Cursor: page.NextCursor})
	must(t, err)
	if len(page.Data) != 1 || page.Data[0].ID != tpl.ID {
		t.Fatalf("second page %+v", page)
	}
	page, err = s.ListTemplates(ctx, kalcifer.TemplateFilter{TenantID: "default", Channel: kalcifer.ChannelPush})
	must(t, err)
	if len(page.Data) != 1 || page.Data[0].Data["url"] != "/o/{{ event.data.id }}" {
		t.Fatalf("push page %+v", page)
	}

	// Another tenant sees none of it.
	_, _, err = s.EnsureTenant(ctx, actor, "other")
	must(t, err)
	_, err = s.GetTemplate(ctx, "other", tpl.ID)
	wantCode(t, err, kalcifer.ENOTFOUND)
	_, err = s.TemplateVersion(ctx, "other", tpl.ID, 1)
	wantCode(t, err, kalcifer.ENOTFOUND)
	wantCode(t, s.DeleteTemplate(ctx, actor, "other", tpl.ID), kalcifer.ENOTFOUND)
	// The same name is free in another tenant.
	must(t, s.CreateTemplate(ctx, actor, &kalcifer.Template{TenantID: "other", Name: "push", Channel: kalcifer.ChannelSMS,
		TemplateContent: kalcifer.TemplateContent{Body: "x"}}))

	// Deleting removes the versions too, with an audit row for each write.
	must(t, s.DeleteTemplate(ctx, actor, "default", tpl.ID))
	_, err = s.TemplateVersions(ctx, "default", tpl.ID)
	wantCode(t, err, kalcifer.ENOTFOUND)
	audit, err := s.ListAudit(ctx, kalcifer.AuditFilter{TenantID: "default", ResourceType: "template", ResourceID: tpl.ID})
	must(t, err)
	var actions []string
	for _, a := range audit.Data {
		actions = append(actions, a.Action)
	}
	if len(actions) != 3 {
		t.Errorf("audit actions %v, want create, update, delete", actions)
	}
}
