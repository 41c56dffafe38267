"""E-mail notices to participants when their schedule is published or changes, and
reminders to report on their meetings after the fair.

Plain ``smtplib`` and ``email.message`` (no Flask): the web app passes the SMTP
settings from its configuration (``MAIL_SERVER``, ``MAIL_PORT``,
``MAIL_USERNAME``, ``MAIL_PASSWORD``, ``MAIL_USE_TLS``, ``MAIL_FROM``) and a
function giving each participant's schedule link. Notices are sent after the
publication is committed; a failure is reported, never undoes the publication.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.calendars import location_text
from scheduler.models import (
    Attendance,
    Event,
    Meeting,
    MeetingStatus,
    Participant,
    Person,
    Table,
)

log = logging.getLogger(__name__)

# The notice in each participant language (Participant.locale); Japanese is the default.
SUBJECTS = {
    "ja": {
        "new": "【{event}】商談スケジュールのお知らせ",
        "changed": "【{event}】商談スケジュール変更のお知らせ",
    },
    "en": {
        "new": "{event}: your meeting schedule",
        "changed": "{event}: your meeting schedule has changed",
    },
}
BODIES = {
    "ja": (
        "{organization} {name} 様\n\n"
        "{event} の商談スケジュールを{verb}しました。商談は {count} 件です。\n"
        "{meetings}"
        "最新の予定は次のページでいつでもご確認いただけます"
        "（カレンダーへの登録もこのページからできます）。\n\n{link}\n\n"
        "このリンクは貴社専用です。社外の方と共有しないでください。\n"
    ),
    "en": (
        "Dear {name} ({organization}),\n\n"
        "The meeting schedule of {event} has been {verb}. You have {count}.\n"
        "{meetings}"
        "Your schedule page always shows the latest, and adds it to your calendar:"
        "\n\n{link}\n\n"
        "This link is for your company only; please do not share it.\n"
    ),
}
VERBS = {"ja": {"new": "公開", "changed": "更新"}, "en": {"new": "published", "changed": "updated"}}


def meeting_count(language: str, count: int) -> str:
    """How many meetings, as the body's sentence needs it ("1 meeting", not "1 meetings")."""
    if language != "en":
        return str(count)
    if count == 0:
        return "no meetings"
    return f"{count} meeting" if count == 1 else f"{count} meetings"


@dataclass(frozen=True)
class MailSettings:
    """Where and how to send e-mail."""

    server: str
    port: int = 25
    username: str = ""
    password: str = ""
    use_tls: bool = False
    sender: str = ""
    timeout: float = 20.0

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> MailSettings | None:
        """Settings from an app configuration; None when no ``MAIL_SERVER`` is configured."""
        server = str(config.get("MAIL_SERVER") or "")
        if not server:
            return None
        use_tls = config.get("MAIL_USE_TLS", False)
        if isinstance(use_tls, str):
            use_tls = use_tls.strip().lower() in {"1", "true", "yes", "on"}
        return cls(
            server=server,
            port=int(config.get("MAIL_PORT") or 25),
            username=str(config.get("MAIL_USERNAME") or ""),
            password=str(config.get("MAIL_PASSWORD") or ""),
            use_tls=bool(use_tls),
            sender=str(config.get("MAIL_FROM") or ""),
        )


@dataclass(frozen=True)
class Notice:
    """One e-mail to one participant's contact people."""

    participant_id: int
    recipients: tuple[str, ...]
    subject: str
    body: str


@dataclass(frozen=True)
class Failure:
    """A notice that could not be sent, and why."""

    participant_id: int
    recipients: tuple[str, ...]
    error: str


def schedule_notices(
    session: Session,
    event: Event,
    participant_ids: Iterable[int],
    *,
    link_for: Callable[[Participant], str],
    first: bool,
) -> tuple[list[Notice], list[Participant]]:
    """The notices for ``participant_ids``, and the participants without a contact e-mail.

    Each goes to the participant's contact people (every attendee when none is
    marked as contact), in the participant's language, with its schedule link.
    """
    participants = session.scalars(
        select(Participant)
        .where(Participant.id.in_(set(participant_ids)), Participant.event_id == event.id)
        .options(
            selectinload(Participant.attendances).selectinload(Attendance.person),
            selectinload(Participant.organization),
        )
        .order_by(Participant.code, Participant.id)
    ).all()
    counts: dict[int, int] = {}
    lines: dict[int, list[tuple[datetime, Meeting]]] = {}
    wanted = {p.id for p in participants}
    for meeting in session.scalars(
        select(Meeting)
        .where(Meeting.event_id == event.id, Meeting.status != MeetingStatus.CANCELLED)
        .options(
            selectinload(Meeting.slot),
            selectinload(Meeting.table).selectinload(Table.room),
            selectinload(Meeting.moved_from_slot),
            selectinload(Meeting.moved_from_table),
            selectinload(Meeting.participant_a).selectinload(Participant.organization),
            selectinload(Meeting.participant_b).selectinload(Participant.organization),
        )
    ):
        for own in (meeting.participant_a_id, meeting.participant_b_id):
            counts[own] = counts.get(own, 0) + 1
            if own in wanted:
                lines.setdefault(own, []).append((meeting.slot.starts_at, meeting))
    kind = "new" if first else "changed"
    return _notices(
        event,
        participants,
        {language: (SUBJECTS[language][kind], BODIES[language]) for language in SUBJECTS},
        lambda participant, language: {
            "count": meeting_count(language, counts.get(participant.id, 0)),
            "meetings": _meeting_lines(event, participant, lines.get(participant.id, []), language),
            "link": link_for(participant),
            "verb": VERBS[language][kind],
        },
    )


def _meeting_lines(
    event: Event, participant: Participant, meetings: list[tuple[datetime, Meeting]], language: str
) -> str:
    """The participant's meetings as they now stand, one line each, for the e-mail body:
    when, with whom, where (the page stays the reference; this is what a phone shows
    without opening it)."""
    if not meetings:
        return ""
    several_days = len({event.local(start).date() for start, _ in meetings}) > 1
    out = ["", *(["【商談予定】"] if language == "ja" else ["Your meetings:"])]
    for _start, meeting in sorted(meetings, key=lambda item: (item[0], item[1].id)):
        begins, ends = event.local(meeting.slot.starts_at), event.local(meeting.slot.ends_at)
        when = f"{begins:%H:%M}–{ends:%H:%M}"
        if several_days:
            when = f"{begins.month}/{begins.day} {when}"
        other = (
            meeting.participant_b
            if meeting.participant_a_id == participant.id
            else meeting.participant_a
        )
        who = other.display_name + (f" ({other.code})" if other.code else "")
        where = location_text(meeting.table, language)
        bullet = "・" if language == "ja" else "- "
        line = f"{bullet}{when}  {who}" + (f"  {where}" if where else "")
        out.append(line + _moved_from(event, meeting, language))
    return "\n".join([*out, "", ""])


def _moved_from(event: Event, meeting: Meeting, language: str) -> str:
    """Where a meeting moved since publication was before its last move, as its schedule
    page says it ("moved from 10:00, table A03"), so that a reader of the change notice
    sees what moved, not only the day as it now stands; empty for an unmoved meeting."""
    before = meeting.moved_from_slot
    if not meeting.version or before is None:
        return ""
    table = meeting.moved_from_table.label if meeting.moved_from_table is not None else None
    ja = language == "ja"
    if before.id == meeting.slot_id:
        if table is None:
            return "（テーブル決定）" if ja else " (table assigned)"
        return f"（変更前：テーブル{table}）" if ja else f" (moved from table {table})"
    start = event.local(before.starts_at)
    when = f"{start:%H:%M}"
    if start.date() != event.local(meeting.slot.starts_at).date():
        when = f"{start.month}/{start.day} {when}"
    if ja:
        return f"（変更前：{when}、テーブル{table}）" if table else f"（変更前：{when}）"
    return f" (moved from {when}, table {table})" if table else f" (moved from {when})"


def _notices(
    event: Event,
    participants: Iterable[Participant],
    texts: Mapping[str, tuple[str, str]],
    values_for: Callable[[Participant, str], dict[str, str]],
) -> tuple[list[Notice], list[Participant]]:
    """One e-mail per participant to its contact people, in its language (Japanese when
    ``texts`` has none for it): ``texts`` gives (subject, body) templates per language,
    filled with the event, the company, the people's names and ``values_for``'s values.
    Also returns the participants nobody can be e-mailed for."""
    notices: list[Notice] = []
    unreachable: list[Participant] = []
    for participant in participants:
        people = _recipients(participant)
        if not people:
            unreachable.append(participant)
            continue
        language = participant.locale if participant.locale in texts else "ja"
        values = {
            "event": event.name,
            "organization": participant.display_name,
            "name": ("、" if language == "ja" else ", ").join(p.name for p in people),
            **values_for(participant, language),
        }
        subject, body = texts[language]
        notices.append(
            Notice(
                participant_id=participant.id,
                recipients=tuple(dict.fromkeys(p.email for p in people)),
                subject=subject.format(**values),
                body=body.format(**values),
            )
        )
    return notices, unreachable


def _recipients(participant: Participant) -> list[Person]:
    """Who gets a participant's e-mail: its contact people with an address, else every
    attendee with one."""
    people = [a.person for a in participant.attendances if a.is_contact and a.person.email]
    return people or [a.person for a in participant.attendances if a.person.email]


# The secret link of a company whose self-registration the organizer approved.
WELCOME_SUBJECTS = {
    "ja": "【{event}】参加登録を承認しました",
    "en": "{event}: your registration is approved",
}
WELCOME_BODIES = {
    "ja": (
        "{organization} {name} 様\n\n"
        "{event} への参加登録を承認しました。\n"
        "次のページで企業情報（技術・設備・認証やニーズ）を登録し、商談を希望する企業を"
        "お選びください。スケジュールも公開後にこのページでご確認いただけます。\n\n"
        "{link}\n\n"
        "このリンクは貴社専用です。社外の方と共有しないでください。\n"
    ),
    "en": (
        "Dear {name} ({organization}),\n\n"
        "Your registration for {event} is approved.\n"
        "On this page you can complete your company profile (technologies, equipment, "
        "certifications or needs) and choose the companies you would like to meet; your "
        "schedule will be there too once it is published:\n\n{link}\n\n"
        "This link is for your company only; please do not share it.\n"
    ),
}


def welcome_notices(
    event: Event, participants: Iterable[Participant], *, link_for: Callable[[Participant], str]
) -> tuple[list[Notice], list[Participant]]:
    """The approved companies' secret links, and those without a contact e-mail."""
    return _with_link(event, participants, WELCOME_SUBJECTS, WELCOME_BODIES, link_for)


def _with_link(
    event: Event,
    participants: Iterable[Participant],
    subjects: Mapping[str, str],
    bodies: Mapping[str, str],
    link_for: Callable[[Participant], str],
) -> tuple[list[Notice], list[Participant]]:
    """Notices whose only value beyond the names is each participant's ``{link}``."""
    return _notices(
        event,
        participants,
        {language: (subjects[language], bodies[language]) for language in subjects},
        lambda participant, _language: {"link": link_for(participant)},
    )


# The reminder after the fair, in each participant language: to report on the meetings
# still unreported, to answer the fair survey, or both; each asks only for what is missing.
REMINDER_SUBJECTS = {
    "ja": {
        "reports": "【{event}】商談の成果についてのお願い",
        "survey": "【{event}】参加者アンケートへのご協力のお願い",
    },
    "en": {
        "reports": "{event}: how did your meetings go?",
        "survey": "{event}: a three-question survey about the fair",
    },
}
REMINDER_BODIES = {
    "ja": (
        "{organization} {name} 様\n\n"
        "先日の {event} へのご参加、ありがとうございました。\n"
        "{request}\n\n{link}\n\n"
        "{also}{deadline}"
        "いただいた内容は主催者のみが確認し、商談相手には公開されません。\n"
        "このリンクは貴社専用です。社外の方と共有しないでください。\n"
        "{signature}"
    ),
    "en": (
        "Dear {name} ({organization}),\n\n"
        "Thank you for taking part in {event}.\n"
        "{request}\n\n{link}\n\n"
        "{also}{deadline}"
        "Only the organizer sees your answers, never the other company.\n"
        "This link is for your company only; please do not share it.\n"
        "{signature}"
    ),
}
# What is asked: the meetings still to report on (with or without the survey), or the
# survey alone. "{order}" is the order in the participant's own words: a buyer places
# it (発注), a supplier receives it (受注), as their report forms say.
REMINDER_REQUESTS = {
    "ja": {
        "reports": (
            "まだご報告いただいていない商談が {count} 件あります。"
            "{each}の結果と、その後の展開（工場見学、見積、試作・テスト発注、{order}など）を、"
            "次のページからお知らせください。1 件につき 1 分ほどで済みます。"
            "進展があれば、後から更新することもできます。"
        ),
        "also_survey": "同じページの参加者アンケート（3 問）にもご協力ください。\n",
        "survey": (
            "各商談のご報告は、すべていただいております。\n"
            "参加者アンケート（3 問）へのご回答がまだのようですので、"
            "次のページからご協力をお願いいたします（1 分ほどで済みます）。"
        ),
    },
    "en": {
        "reports": (
            "You have {count} not reported on yet. Please tell us how {each} went and what "
            "followed (a factory visit, a quotation, a trial order, {order}) on this page. "
            "It takes about a minute per meeting, and you can update your answers later "
            "as things develop:"
        ),
        "also_survey": (
            "The same page has a three-question survey about the fair: please answer it too.\n"
        ),
        "survey": (
            "We have your reports on all your meetings. One thing is left: a three-question "
            "survey about the fair, on this page (it takes about a minute):"
        ),
    },
}
# "How each went" of several meetings, "how it went" of one.
REMINDER_EACH = {"ja": {False: "各商談", True: "商談"}, "en": {False: "each", True: "it"}}
REMINDER_ORDER_WORDS = {
    "ja": {"buyer": "発注", "supplier": "受注"},
    "en": {"buyer": "an order placed", "supplier": "an order"},
}
# The deadline sentence, when the organizer set one (the "closed" phase's closing time).
REMINDER_DEADLINES = {
    "ja": {
        "reports": "ご報告は {when} までにお願いいたします。\n",
        "survey": "ご回答は {when} までにお願いいたします。\n",
        "both": "ご報告・ご回答は {when} までにお願いいたします。\n",
    },
    "en": {
        "reports": "Please report by {when}.\n",
        "survey": "Please answer by {when}.\n",
        "both": "Please report and answer by {when}.\n",
    },
}


@dataclass(frozen=True)
class ReminderNeeds:
    """What a participant has still to do after the fair: ``unreported`` meetings that
    started and await its report, and whether it has still to answer the ``survey``."""

    unreported: int = 0
    survey: bool = False


def signature(event: Event, language: str) -> str:
    """Who sends a mail: the fair's office, and the organizer's e-mail when the event has one."""
    if language == "ja":
        lines = ["", "――――――――――――――――", f"{event.name} 事務局"]
        if event.contact_email:
            lines.append(f"お問い合わせ：{event.contact_email}")
    else:
        lines = ["", "-- ", f"The organizers of {event.name}"]
        if event.contact_email:
            lines.append(f"Questions: {event.contact_email}")
    return "\n".join([*lines, ""])


def outcome_reminders(
    event: Event,
    participants: Iterable[Participant],
    *,
    link_for: Callable[[Participant], str],
    needs: Mapping[int, ReminderNeeds],
    closes_at: datetime | None = None,
) -> tuple[list[Notice], list[Participant]]:
    """Reminders to report on the meetings and to answer the survey, each asking only for
    what ``needs`` says the participant has left (participant id -> its needs), in its
    own words (a buyer's order is one it placed), with the deadline ``closes_at`` when
    there is one, signed with the event; and the participants without a contact e-mail."""

    def values(participant: Participant, language: str) -> dict[str, str]:
        need = needs.get(participant.id, ReminderNeeds(survey=True))
        requests = REMINDER_REQUESTS[language]
        also = ""
        if need.unreported:
            kind = "reports"
            request = requests["reports"].format(
                count=meeting_count(language, need.unreported),
                each=REMINDER_EACH[language][need.unreported == 1],
                order=REMINDER_ORDER_WORDS[language].get(
                    participant.role, REMINDER_ORDER_WORDS[language]["supplier"]
                ),
            )
            also = requests["also_survey"] if need.survey else ""
        else:
            kind = "survey"
            request = requests["survey"]
        deadline = ""
        if closes_at is not None:
            which = "both" if need.unreported and need.survey else kind
            deadline = REMINDER_DEADLINES[language][which].format(
                when=deadline_text(event, closes_at, language)
            )
        return {
            "subject": REMINDER_SUBJECTS[language][kind].format(event=event.name),
            "request": request,
            "also": also,
            "link": link_for(participant),
            "deadline": deadline,
            "signature": signature(event, language),
        }

    return _notices(
        event,
        participants,
        {language: ("{subject}", REMINDER_BODIES[language]) for language in REMINDER_BODIES},
        values,
    )


def send_notices(notices: Iterable[Notice], settings: MailSettings) -> list[Failure]:
    """Send ``notices`` over one SMTP connection; the ones that failed, with the error."""
    pending = list(notices)
    if not pending:
        return []
    failures: list[Failure] = []
    done: set[int] = set()  # sent or failed on their own
    try:
        with smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout) as smtp:
            if settings.use_tls:
                smtp.starttls()
            if settings.username:
                smtp.login(settings.username, settings.password)
            for notice in pending:
                try:
                    smtp.send_message(_message(notice, settings))
                except (smtplib.SMTPException, OSError, ValueError) as error:
                    # ValueError: a message that cannot be written (a header with a
                    # line break): that notice fails, the others still go out.
                    log.warning("notice to %s failed: %s", notice.recipients, error)
                    failures.append(Failure(notice.participant_id, notice.recipients, str(error)))
                done.add(notice.participant_id)
    except (smtplib.SMTPException, OSError) as error:
        log.warning("cannot send notices through %s:%s: %s", settings.server, settings.port, error)
        failures.extend(
            Failure(n.participant_id, n.recipients, str(error))
            for n in pending
            if n.participant_id not in done
        )
    return failures


def _message(notice: Notice, settings: MailSettings) -> EmailMessage:
    message = EmailMessage()
    sender = settings.sender or f"matchfair@{settings.server}"
    message["From"] = sender
    message["To"] = ", ".join(notice.recipients)
    message["Subject"] = " ".join(notice.subject.split())  # a header holds one line
    # A Date and a Message-ID in the sender's own domain: mail without them is
    # likelier to be filed as spam (smtplib adds neither).
    message["Date"] = formatdate(localtime=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or settings.server or "matchfair"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(notice.body)
    return message


# The reminder to state whom one would like to meet, sent during the preferences phase
# to the participants who have neither asked for anyone nor answered anyone.
PREFERENCE_REMINDER_SUBJECTS = {
    "ja": "【{event}】商談希望のご登録のお願い",
    "en": "{event}: whom would you like to meet?",
}
PREFERENCE_REMINDER_BODIES = {
    "ja": (
        "{organization} {name} 様\n\n"
        "{event} では、商談を希望する企業のご登録を受け付けています。"
        "貴社の商談希望はまだ登録されていません。\n"
        "次のページで、商談を希望する企業と希望度（高・中・低）をお選びください。\n\n"
        "{link}\n\n"
        "{deadline}\n"
        "商談スケジュールは、ご登録いただいた商談希望をもとに作成します。\n"
        "このリンクは貴社専用です。社外の方と共有しないでください。\n"
    ),
    "en": (
        "Dear {name} ({organization}),\n\n"
        "{event} is taking meeting requests, and your company has not made any yet.\n"
        "On this page you can choose the companies you would like to meet, and how much "
        "(high, medium or low):\n\n{link}\n\n"
        "{deadline}\n"
        "The meeting schedule is made from these requests.\n"
        "This link is for your company only; please do not share it.\n"
    ),
}
# The deadline sentence: the closing time of the preferences phase in the event's time
# zone, or a plain "soon" when the organizer set none.
PREFERENCE_DEADLINES = {
    "ja": {"at": "登録の締切は {when} です。", "none": "お早めにご登録ください。"},
    "en": {"at": "The deadline is {when}.", "none": "Please choose soon."},
}
_WEEKDAYS = {
    "ja": ("月", "火", "水", "木", "金", "土", "日"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


def deadline_text(event: Event, moment: datetime, language: str) -> str:
    """A deadline as a reader of ``language`` expects it, in the event's time zone.

    Written out by hand rather than through the process locale: the mail goes out in
    each participant's language whatever the server's locale is. English names the
    zone (a reader abroad may not be in it); Japanese readers of a fair in Japan are.
    """
    local = event.local(moment)
    weekday = _WEEKDAYS["ja" if language == "ja" else "en"][local.weekday()]
    if language == "ja":
        return f"{local.year}年{local.month}月{local.day}日（{weekday}）{local:%H:%M}"
    zone = local.tzname() or event.timezone
    return f"{weekday} {local.day} {_MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M} {zone}"


def preference_reminders(
    event: Event,
    participants: Iterable[Participant],
    *,
    link_for: Callable[[Participant], str],
    closes_at: datetime | None,
) -> tuple[list[Notice], list[Participant]]:
    """Reminders to state preferences before ``closes_at`` (the preferences phase's
    closing time, None when the organizer set none), each with the participant's link
    to its requests page; and the participants without a contact e-mail."""

    def values(participant: Participant, language: str) -> dict[str, str]:
        sentences = PREFERENCE_DEADLINES[language]
        deadline = (
            sentences["none"] if closes_at is None
            else sentences["at"].format(when=deadline_text(event, closes_at, language))
        )
        return {"link": link_for(participant), "deadline": deadline}

    return _notices(
        event,
        participants,
        {
            language: (PREFERENCE_REMINDER_SUBJECTS[language], PREFERENCE_REMINDER_BODIES[language])
            for language in PREFERENCE_REMINDER_SUBJECTS
        },
        values,
    )
