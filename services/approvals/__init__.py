"""One-stop approval (一站式审批 / 一窗通办): the city-wide approval item catalog (事项清单) with versions,
each zone's delegation list (赋权清单), applications (办件) with their working-day clocks on the official
calendar, notify-and-commit mode (告知承诺制), time-limit alerts (超期预警), agent service (帮办代办 /
首问负责) and evaluation (好差评) with follow-ups.

Publishes ``zone.approvals.application.*`` events on topic ``zone.approvals``; consumes the investment
service's project events (identity and admission checks) into a local projection.
"""
