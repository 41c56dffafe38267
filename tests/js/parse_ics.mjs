// Parse an iCalendar file with Mozilla's ical.js and print what a client would see, as JSON.
// Usage: node parse_ics.mjs FILE   (used by tests/test_calendars.py)
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(process.argv[2], "utf8");
const calendar = new ICAL.Component(ICAL.parse(text));

// Register the feed's own VTIMEZONEs so times convert with the feed's rules.
const timezones = calendar.getAllSubcomponents("vtimezone").map((vtz) => {
  const zone = new ICAL.Timezone(vtz);
  ICAL.TimezoneService.register(zone);
  return zone.tzid;
});

const props = {};
for (const prop of calendar.getAllProperties()) {
  props[prop.name] = { value: String(prop.getFirstValue()), type: prop.type };
}

const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  const start = vevent.getFirstProperty("dtstart");
  return {
    uid: event.uid,
    sequence: event.sequence,
    summary: event.summary,
    description: event.description,
    location: event.location,
    url: vevent.getFirstPropertyValue("url"),
    status: vevent.getFirstPropertyValue("status"),
    transp: vevent.getFirstPropertyValue("transp"),
    tzid: start.getParameter("tzid") ?? null,
    start_utc: event.startDate.toJSDate().toISOString(),
    end_utc: event.endDate.toJSDate().toISOString(),
    floating: event.startDate.zone === ICAL.Timezone.localTimezone,
    organizer: vevent.getFirstPropertyValue("organizer"),
    attendees: vevent.getAllProperties("attendee").length,
  };
});

process.stdout.write(JSON.stringify({ props, timezones, events }));
