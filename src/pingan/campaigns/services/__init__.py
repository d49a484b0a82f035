"""Writes for campaigns, one module per workflow:

- `seed`: loading the seed town (区划, 活动, 阶段, 任务数, 责任单位, 默认类别和派单规则);
- `allocation`: 分片包干, splitting each village's households among its cadres;
- `leaflets`: the leaflets (宣传资料) the town center issues to villages;
- `categories`: the town's categories (问题类别) and routing rules (派单规则).
"""
