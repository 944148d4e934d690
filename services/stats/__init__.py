"""Statistics reporting service (统计报表服务).

Owns the indicator system (指标体系), validation rules (审核规则), enterprise reports and their
review (报送、审核、退回、重报), period closing (关账) and revisions (数据修订), indicators derived
from the other services' events, the per zone × indicator × period pre-aggregates behind zone
summaries and exports, the targets table (目标分解表), the obligations registry (报送义务) and the
differentiated assessment of zones (差异化考核) that yields each zone's pay coefficient.

It keeps a projection of the platform's zone directory (topic ``zone.platform``) and publishes on
``zone.stats``.
"""
