{% include "_flows.sql" %}
SELECT
  t - t % {{ window }} AS window_start,
  src,
  -- The smallest IPv4 destination, as the local finding's `dst`.
  min_by(dst, dst_v4) AS dst,
  CAST(NULL AS INTEGER) AS dst_port,
  CAST(NULL AS INTEGER) AS protocol,
  CAST(NULL AS VARCHAR) AS service,
  CAST(NULL AS VARCHAR) AS interface_id,
  count(*) AS flows,
  sum(packets) AS packets,
  sum(bytes) AS bytes,
  min(t) AS first_seen,
  max(t_end) AS last_seen,
  array_join(array_distinct(array_agg(decided)), ',') AS decided_by,
  count(DISTINCT dst) AS distinct_count
FROM flows
WHERE src IS NOT NULL AND dst IS NOT NULL AND t IS NOT NULL
  AND action = 'REJECT'
  AND {{ scope }}
  AND NOT {{ exempt }}
GROUP BY t - t % {{ window }}, src
HAVING count(*) >= {{ min_rejects }}
ORDER BY window_start, src
