"""The position-based HR service (岗位管理): what a zone agency's HR administrator runs.

It owns, per zone: departments (内设机构) and the headcount quota (员额总控) allocated to them; the
pay bands of grades (职级) and the positions (岗位) set up against the quota; staff records of every
identity (locked-identity civil servants and public-institution staff, market-hired contract staff,
seconded staff) with their national ID numbers, masked for all but HR administrators; competitive
appointment (竞聘) with weighted scoring, ranking and two-way selection; appointments (聘任) for a
term, ended by a background job once the term has run out (``term_expiry.py``); evaluation cycles with KPI weights, fault-tolerance exemptions (容错), grades, 末位 flags and
performance pay scaled by the zone coefficient it consumes from statistics; and monthly payroll
within the annual payroll cap (工资总控). It publishes on topic ``zone.hr`` (see ``events.py``).
"""
