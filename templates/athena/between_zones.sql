{% include "_flows.sql" %}
-- Traffic between two zones, both ways: run with the two zone names as the execution
-- parameters zone_a and zone_b, in that order (Athena ExecutionParameters, or replace the ?s
-- by quoted names). Zones are the pack's, in order, plus `unzoned` and `internet`.
, zoned AS (
  SELECT flows.*,
    {{ src_zone }} AS src_zone,
    {{ dst_zone }} AS dst_zone
  FROM flows
),
pick AS (
  SELECT CAST(? AS VARCHAR) AS zone_a, CAST(? AS VARCHAR) AS zone_b
)
SELECT src_zone, dst_zone, src, dst, dport AS dst_port, protocol, action,
  count(*) AS flows, sum(packets) AS packets, sum(bytes) AS bytes,
  min(t) AS first_seen, max(t_end) AS last_seen
FROM zoned CROSS JOIN pick
WHERE (src_zone = zone_a AND dst_zone = zone_b) OR (src_zone = zone_b AND dst_zone = zone_a)
GROUP BY src_zone, dst_zone, src, dst, dport, protocol, action
ORDER BY bytes DESC, src, dst
