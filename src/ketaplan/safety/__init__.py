"""Safety around the schedule: screening, the booking gate, the esketamine REMS, staff
checklists and patient guidance. Pure: what they need from the book comes in as
arguments."""
