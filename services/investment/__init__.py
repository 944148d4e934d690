"""Investment attraction (招商引资): what the zone courts and lands.

Owns the city-wide industry chains (产业链) and their nodes, each zone's status on a node (the chain
panorama of 三图一表), the zones' target company lists (重点企业和配套企业名录), admission catalogs
(项目准入目录) and admission checks, investment projects through their lifecycle (线索 → 投产), funds in
place (实际到位资金) and coordination issues (调度 / 吹哨报到). Publishes on topic ``zone.investment``.
"""
