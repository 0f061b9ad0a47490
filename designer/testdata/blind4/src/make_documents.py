#!/usr/bin/env python3
"""Writes ../documents/* (blind set 4): CSV, XLSX (OOXML written by hand), DOCX (HTML converted by
LibreOffice), PDF (DOCX converted by LibreOffice), MD, TXT, and each <name>.expect.json.
Run from anywhere: python3 src/make_documents.py (needs `soffice` on PATH)."""
import csv, html, io, json, os, shutil, subprocess, tempfile, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "..", "documents")
os.makedirs(DOCS, exist_ok=True)


def write_expect(name, style, industry, features, expect, note=None):
    c = {"name": name, "style": style, "industry": industry, "features": features, "expect": expect}
    if note:
        c["note"] = note
    with open(os.path.join(DOCS, name + ".expect.json"), "w") as fh:
        json.dump(c, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


# ---------- CSV ----------
def write_csv(fname, rows):
    with open(os.path.join(DOCS, fname), "w", newline="") as fh:
        csv.writer(fh).writerows(rows)


# ---------- XLSX (hand-written OOXML) ----------
def col(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def write_xlsx(fname, rows, sheet="Plan"):
    sd = []
    for r, row in enumerate(rows, 1):
        cells = []
        for c, v in enumerate(row):
            if v is None or v == "":
                continue
            ref = f"{col(c)}{r}"
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                cells.append(f'<c r="{ref}"><v>{v}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{html.escape(str(v), quote=False)}</t></is></c>')
        sd.append(f'<row r="{r}">{"".join(cells)}</row>')
    sheet_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                 f'<sheetData>{"".join(sd)}</sheetData></worksheet>')
    files = {
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '</Types>',
        "_rels/.rels":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>',
        "xl/workbook.xml":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '</Relationships>',
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    with zipfile.ZipFile(os.path.join(DOCS, fname), "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in files.items():
            z.writestr(k, v)


# ---------- DOCX / PDF via LibreOffice ----------
def html_doc(title, blocks):
    """blocks: list of ('h', text) | ('p', text) | ('table', [header, rows...])"""
    out = [f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>",
           f"<h1>{html.escape(title)}</h1>"]
    for kind, val in blocks:
        if kind == "h":
            out.append(f"<h2>{html.escape(val)}</h2>")
        elif kind == "p":
            out.append(f"<p>{html.escape(val)}</p>")
        elif kind == "table":
            out.append("<table border='1' cellpadding='4'>")
            for i, row in enumerate(val):
                tag = "th" if i == 0 else "td"
                out.append("<tr>" + "".join(f"<{tag}>{html.escape(str(x))}</{tag}>" for x in row) + "</tr>")
            out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def soffice(src, fmt, outdir):
    subprocess.run(["soffice", "--headless", "--convert-to", fmt, "--outdir", outdir, src],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)


def write_docx(fname, title, blocks, also_pdf_only=False):
    """Writes documents/<fname>.docx; with also_pdf_only, writes only documents/<fname>.pdf
    (made from the DOCX)."""
    tmp = tempfile.mkdtemp()
    src = os.path.join(tmp, fname + ".html")
    with open(src, "w") as fh:
        fh.write(html_doc(title, blocks))
    soffice(src, "docx:MS Word 2007 XML", tmp)
    docx = os.path.join(tmp, fname + ".docx")
    if also_pdf_only:
        soffice(docx, "pdf", tmp)
        shutil.copy(os.path.join(tmp, fname + ".pdf"), os.path.join(DOCS, fname + ".pdf"))
    else:
        shutil.copy(docx, os.path.join(DOCS, fname + ".docx"))
    shutil.rmtree(tmp)


# =====================================================================
# D1 CSV: plain table, trigger in a column, relative waits
write_csv("shop_post_purchase.csv", [
    ["step", "trigger", "wait_before", "channel", "content", "condition"],
    [1, "order_completed", "0", "email", "Order confirmation + receipt", ""],
    [2, "", "2d", "sms", "Your parcel is on its way", ""],
    [3, "", "5d", "email", "How do you like it? Leave a review", ""],
    [4, "", "3d", "push", "Picked for you: matching accessories", "only if order_total > 150"],
])
write_expect("shop_post_purchase", "planning-sheet", "ecommerce",
             ["entry", "channels", "timing", "conditions"],
             {"entry": {"type": "event_entry", "event_type": "order_completed"},
              "sends": {"send_email": 2, "send_sms": 1, "send_push": 1},
              "waits": ["2d", "5d", "3d"],
              "conditions": [{"attribute": "order_total", "value": 150}]},
             note="wait_before is relative to the previous step")

# D2 CSV: preamble lines, Variant column, absolute Day column
write_csv("telecom_upgrade_plan.csv", [
    ["Campaign", "Handset upgrade offer"],
    ["Trigger", "event contract_eligible_for_upgrade"],
    ["Exit", "when upgrade_ordered arrives"],
    ["Cap", "max 2 SMS per 7 days per customer"],
    [],
    ["Day", "Variant", "Share", "Channel", "Message"],
    ["0", "A", "50%", "SMS", "New phones from 0 upfront - see your offer"],
    ["0", "B", "50%", "Email", "Your upgrade guide + offer"],
    ["3", "A", "50%", "Email", "Reminder: your upgrade offer"],
    ["3", "B", "50%", "SMS", "Reminder: your upgrade offer"],
])
write_expect("telecom_upgrade_plan", "planning-sheet", "telecom",
             ["entry", "ab", "channels", "timing", "exits", "caps"],
             {"entry": {"type": "event_entry", "event_type": "contract_eligible_for_upgrade"},
              "ab": [[50, 50]],
              "sends": {"send_sms": 2, "send_email": 2},
              "waits": ["3d", "3d"],
              "exit": {"event_type": "upgrade_ordered"},
              "cap": {"channel": "sms", "max": 2, "window": "7d"}},
             note="Day is absolute from entry; each variant waits 3d between its two sends")

# D3 XLSX: SaaS trial plan, notes above the table, absolute days, condition on the last row
write_xlsx("saas_trial_plan.xlsx", [
    ["Trial conversion plan - Q1"],
    [],
    ["Trigger:", "trial_started (event)"],
    ["Goal:", "trial converts - event subscription_started"],
    ["Exit:", "event account_closed"],
    [],
    ["Day", "Channel", "Content", "Condition"],
    [0, "Email", "Welcome + setup checklist", ""],
    [1, "Push", "Connect your first integration", ""],
    [5, "Email", "Customer story: how Acme saved 10h/week", ""],
    [12, "SMS", "Your trial ends in 2 days", "only if plan = trial_pro"],
], sheet="Trial plan")
write_expect("saas_trial_plan", "planning-sheet", "saas",
             ["entry", "channels", "timing", "conditions", "goals", "exits"],
             {"entry": {"type": "event_entry", "event_type": "trial_started"},
              "sends": {"send_email": 2, "send_push": 1, "send_sms": 1},
              "waits": ["1d", "4d", "7d"],
              "conditions": [{"attribute": "plan", "value": "trial_pro"}],
              "goal": {"event_type": "subscription_started"},
              "exit": {"event_type": "account_closed"}},
             note="Day is absolute from entry: waits 1d, 4d, 7d")

# D4 XLSX: fitness A/B/control with a Split column and relative waits
write_xlsx("fitness_new_member_test.xlsx", [
    ["New member engagement test"],
    ["Audience", "segment new_members_jan (customers entering it)"],
    ["Frequency cap", "push: max 1 per day"],
    [],
    ["Split", "Share", "Step", "Wait before step", "Channel", "Message"],
    ["Control", "20%", "", "", "none", "no messages"],
    ["Coach", "40%", 1, "none", "Push", "Meet your coach"],
    ["Coach", "40%", 2, "2 days", "Email", "Your first week plan"],
    ["Community", "40%", 1, "none", "Email", "Join the members group"],
    ["Community", "40%", 2, "1 day", "Push", "Group run this Saturday"],
], sheet="Test")
write_expect("fitness_new_member_test", "planning-sheet", "health_fitness",
             ["entry", "ab", "channels", "timing", "caps"],
             {"entry": {"type": "segment_entry", "segment": "new_members_jan"},
              "ab": [[20, 40, 40]],
              "sends": {"send_push": 2, "send_email": 2},
              "waits": ["2d", "1d"],
              "cap": {"channel": "push", "max": 1, "window": "1d"}})

# D5 DOCX: insurance renewal, scheduled entry, wait_until, condition, goal, exit
write_docx("motor_renewal_campaign", "Motor renewal campaign - brief for the CRM team", [
    ("p", "Owner: Retention marketing. Status: ready for build."),
    ("h", "Who and when"),
    ("p", "Trigger: a daily run at 07:30 Europe/Dublin over the segment motor_renewals_60d."),
    ("p", "Goal: the policy is renewed (event policy_renewed)."),
    ("p", "Exit: the customer cancels the policy (event policy_cancelled)."),
    ("h", "Contact plan"),
    ("table", [
        ["When", "Channel", "Message", "Rule"],
        ["45 days before renewal_date", "Email", "Your renewal quote", "all"],
        ["10 days after the quote email", "SMS", "Your quote is waiting", "only if renewal_quote_accepted is false"],
    ]),
    ("p", "Notes: renewal_date is on the customer profile. Copy is with legal for sign-off."),
])
write_expect("motor_renewal_campaign", "document", "insurance",
             ["entry", "channels", "timing", "wait_until", "conditions", "goals", "exits"],
             {"entry": {"type": "scheduled_entry", "cron": "30 7 * * *", "timezone": "Europe/Dublin",
                        "segment": "motor_renewals_60d"},
              "sends": {"send_email": 1, "send_sms": 1},
              "waits": ["10d"],
              "wait_until": [{"until": "customer.renewal_date", "offset": "-45d"}],
              "conditions": [{"attribute": "renewal_quote_accepted"}],
              "goal": {"event_type": "policy_renewed"},
              "exit": {"event_type": "policy_cancelled"}})

# D6 DOCX: bank onboarding, T+ notation, unless, cap, goal, an unbuildable row
write_docx("northbank_onboarding", "Northbank - new account onboarding", [
    ("p", "Prepared for: Lifecycle squad. Version 3."),
    ("p", "Trigger: event account_opened."),
    ("p", "Cap: no more than 2 push notifications per week per customer."),
    ("p", "Goal: first deposit (event first_deposit_made)."),
    ("table", [
        ["Timing", "Channel", "Content", "Notes"],
        ["T+0", "Email", "Welcome to Northbank", ""],
        ["T+0", "Post", "Physical welcome pack with the debit card leaflet", "ops to print"],
        ["T+1", "Push", "Set up your card PIN", ""],
        ["T+3", "SMS", "Make your first deposit", "skip if they already made a deposit (first_deposit_made)"],
    ]),
])
write_expect("northbank_onboarding", "document", "banking",
             ["entry", "channels", "timing", "unless", "caps", "goals"],
             {"entry": {"type": "event_entry", "event_type": "account_opened"},
              "sends": {"send_email": 1, "send_push": 1, "send_sms": 1},
              "waits": ["1d"],
              "wait_for_event": [{"event_type": "first_deposit_made", "timeout": "2d"}],
              "edges": ["wait_for_event[timed_out]->send_sms"],
              "cap": {"channel": "push", "max": 2, "window": "7d"},
              "goal": {"event_type": "first_deposit_made"},
              "must_flag": ["welcome pack"]},
             note="T+ is from entry: the SMS at T+3 is 2 days after the T+1 push, unless the deposit came first; a posted pack is not a node type")

# D7 PDF (from DOCX): travel pre-trip, webhook entry, wait_until, relative wait, cap
write_docx("pretrip_journey_plan", "Pre-trip journey plan (Sunward Holidays)", [
    ("p", "Trigger: the booking engine calls the journey's webhook when a package holiday is confirmed."),
    ("p", "Frequency cap: WhatsApp at most 1 message per 3 days."),
    ("table", [
        ["Step", "When", "Channel", "Content"],
        ["1", "Immediately", "Email", "Your itinerary"],
        ["2", "7 days before trip_start_date", "Email", "Packing tips and weather"],
        ["3", "2 days after step 2", "WhatsApp", "Book your airport transfer"],
    ]),
    ("p", "trip_start_date is a customer attribute set by the booking engine."),
], also_pdf_only=True)
write_expect("pretrip_journey_plan", "document", "travel",
             ["entry", "channels", "timing", "wait_until", "caps"],
             {"entry": {"type": "webhook_entry"},
              "sends": {"send_email": 2, "send_whatsapp": 1},
              "waits": ["2d"],
              "wait_until": [{"until": "customer.trip_start_date", "offset": "-7d"}],
              "cap": {"channel": "whatsapp", "max": 1, "window": "3d"}})

# D8 PDF (from DOCX): non-profit appeal, scheduled entry, Variant column with absolute days, goal
write_docx("winter_appeal", "Winter appeal 2027 - lapsed donors", [
    ("p", "Schedule: every Monday at 09:00 America/Toronto, for the segment lapsed_donors."),
    ("p", "Goal: a donation is made (event donation_made)."),
    ("table", [
        ["Day", "Variant (share)", "Channel", "Ask"],
        ["0", "Story (60%)", "Email", "Meet Amira: what your gift did last winter"],
        ["0", "Match (40%)", "Email", "Every gift matched this week"],
        ["3", "Match (40%)", "SMS", "Your gift is still doubled until Friday"],
    ]),
    ("p", "Story variant gets only the one email."),
], also_pdf_only=True)
write_expect("winter_appeal", "document", "non_profit",
             ["entry", "ab", "channels", "timing", "goals"],
             {"entry": {"type": "scheduled_entry", "cron": "0 9 * * 1", "timezone": "America/Toronto",
                        "segment": "lapsed_donors"},
              "ab": [[60, 40]],
              "sends": {"send_email": 2, "send_sms": 1},
              "waits": ["3d"],
              "goal": {"event_type": "donation_made"}})

# D9 MD: streaming winback, markdown table, condition with otherwise, exit
md = """# Winback - cancelled subscribers

**Trigger:** event `subscription_cancelled`
**Exit:** `subscription_started` (they came back)

| Step | Wait | Channel | Message | Rule |
|------|------|---------|---------|------|
| 1 | - | Email | We're sorry to see you go | |
| 2 | 4d | Email | 50% off for 3 months | |
| 3 | 5d | SMS | Last chance: 50% off ends tonight | only if `country` is US; otherwise a push instead |

Notes: waits are counted from the previous step. Copy owner: Dana.
"""
with open(os.path.join(DOCS, "streaming_winback.md"), "w") as fh:
    fh.write(md)
write_expect("streaming_winback", "document", "media_streaming",
             ["entry", "channels", "timing", "conditions", "alternatives", "exits"],
             {"entry": {"type": "event_entry", "event_type": "subscription_cancelled"},
              "sends": {"send_email": 2, "send_sms": 1, "send_push": 1},
              "waits": ["4d", "5d"],
              "conditions": [{"attribute": "country", "value": "US"}],
              "edges": ["condition[true]->send_sms", "condition[false]->send_push"],
              "exit": {"event_type": "subscription_started"}})

# D10 TXT: utilities smart meter, segment entry, wait for event, cap, goal, an unbuildable step
txt = """SMART METER INSTALL CAMPAIGN - build notes
==========================================

Audience : customers entering the segment no_smart_meter
Cap      : max 2 SMS per 14 days
Goal     : install_booked

Plan
----
Day 0    email    "Book your free smart meter install"
then     wait for install_booked, up to 5 days
         - not booked by then: SMS reminder with the booking link
         - also send them a letter by post with the same offer

Questions to Raj before launch: none.
"""
with open(os.path.join(DOCS, "smart_meter_install.txt"), "w") as fh:
    fh.write(txt)
write_expect("smart_meter_install", "document", "utilities",
             ["entry", "channels", "timing", "unless", "caps", "goals"],
             {"entry": {"type": "segment_entry", "segment": "no_smart_meter"},
              "sends": {"send_email": 1, "send_sms": 1},
              "wait_for_event": [{"event_type": "install_booked", "timeout": "5d"}],
              "edges": ["wait_for_event[timed_out]->send_sms"],
              "cap": {"channel": "sms", "max": 2, "window": "14d"},
              "goal": {"event_type": "install_booked"},
              "must_flag": ["letter by post"]},
             note="a posted letter is not a node type")

print("documents written:", sorted(os.listdir(DOCS)))
