// Read .ics files with Mozilla's ical.js (the parser Thunderbird uses) and print, for
// each file, what it sees as JSON on stdout: the calendar's header properties and every
// event, times as UTC ISO strings ("2026-03-16T08:00:00Z") or dates ("2026-03-16").
// Usage: node tests/ical_read.mjs FILE.ics [FILE.ics ...]; exits 1 on a parse error.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

// ical.js does not know RFC 7986's NAME or the de facto X-WR-CALNAME and would return
// them still escaped; both are TEXT, as Thunderbird and Outlook read them.
ICAL.design.icalendar.property.name = { defaultType: "text" };
ICAL.design.icalendar.property["x-wr-calname"] = { defaultType: "text" };

function when(prop) {
  if (!prop) return null;
  const t = prop.getFirstValue();
  if (t.isDate) return t.toString();
  return t.convertToZone(ICAL.Timezone.utcTimezone).toString();
}

function text(component, name) {
  const value = component.getFirstPropertyValue(name);
  return value === null ? null : String(value);
}

function read(path) {
  const source = readFileSync(path, "utf8");
  const calendar = new ICAL.Component(ICAL.parse(source));
  const events = calendar.getAllSubcomponents("vevent").map((vevent) => ({
    uid: text(vevent, "uid"),
    summary: text(vevent, "summary"),
    start: when(vevent.getFirstProperty("dtstart")),
    end: when(vevent.getFirstProperty("dtend")),
    all_day: vevent.getFirstPropertyValue("dtstart").isDate,
    dtstamp: when(vevent.getFirstProperty("dtstamp")),
    sequence: vevent.getFirstPropertyValue("sequence"),
    description: text(vevent, "description"),
    location: text(vevent, "location"),
    transparency: text(vevent, "transp"),
    status: text(vevent, "status"),
    class: text(vevent, "class"),
    last_modified: when(vevent.getFirstProperty("last-modified")),
    categories: vevent.getAllProperties("categories").flatMap((p) => p.getValues().map(String)),
    alarms: vevent.getAllSubcomponents("valarm").map((valarm) => ({
      action: text(valarm, "action"),
      trigger_seconds: valarm.getFirstPropertyValue("trigger").toSeconds(),
      description: text(valarm, "description"),
    })),
  }));
  return {
    version: text(calendar, "version"),
    prodid: text(calendar, "prodid"),
    method: text(calendar, "method"),
    name: text(calendar, "name"),
    x_wr_calname: text(calendar, "x-wr-calname"),
    x_wr_timezone: text(calendar, "x-wr-timezone"),
    refresh_interval: text(calendar, "refresh-interval"),
    x_published_ttl: text(calendar, "x-published-ttl"),
    components: calendar.getAllSubcomponents().map((c) => c.name),
    events,
  };
}

try {
  process.stdout.write(JSON.stringify(process.argv.slice(2).map(read)) + "\n");
} catch (error) {
  process.stderr.write(`ical.js: ${error.message}\n`);
  process.exit(1);
}
