{% include "_flows.sql" %}
SELECT
  count(*) AS records,
  count_if(is_dup) AS duplicates,
  count_if(NOT is_dup AND action = 'ACCEPT') AS accepted_flows,
  coalesce(sum(CASE WHEN NOT is_dup AND action = 'ACCEPT' THEN packets END), 0) AS accepted_packets,
  coalesce(sum(CASE WHEN NOT is_dup AND action = 'ACCEPT' THEN bytes END), 0) AS accepted_bytes,
  count_if(NOT is_dup AND action = 'REJECT') AS rejected_flows,
  coalesce(sum(CASE WHEN NOT is_dup AND action = 'REJECT' THEN packets END), 0) AS rejected_packets,
  coalesce(sum(CASE WHEN NOT is_dup AND action = 'REJECT' THEN bytes END), 0) AS rejected_bytes,
  count_if(NOT is_dup AND (action IS NULL OR action NOT IN ('ACCEPT', 'REJECT'))) AS no_action_flows,
  coalesce(sum(CASE WHEN NOT is_dup AND (action IS NULL OR action NOT IN ('ACCEPT', 'REJECT')) THEN packets END), 0) AS no_action_packets,
  coalesce(sum(CASE WHEN NOT is_dup AND (action IS NULL OR action NOT IN ('ACCEPT', 'REJECT')) THEN bytes END), 0) AS no_action_bytes,
  count_if(NOT is_dup AND log_status = 'NODATA') AS nodata,
  count_if(NOT is_dup AND log_status = 'SKIPDATA') AS skipdata,
  count_if(NOT is_dup AND t IS NULL) AS untimed,
  min(CASE WHEN NOT is_dup THEN t END) AS first_seen,
  max(CASE WHEN NOT is_dup AND t IS NOT NULL THEN t_end END) AS last_seen
FROM deduped
