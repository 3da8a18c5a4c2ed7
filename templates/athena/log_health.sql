{% include "_flows.sql" %}
SELECT
  t - t % {{ window }} AS window_start,
  CAST(NULL AS VARCHAR) AS src,
  CAST(NULL AS VARCHAR) AS dst,
  CAST(NULL AS INTEGER) AS dst_port,
  CAST(NULL AS INTEGER) AS protocol,
  CAST(NULL AS VARCHAR) AS service,
  coalesce(interface_id, '-') AS interface_id,
  count(*) AS flows,
  sum(packets) AS packets,
  sum(bytes) AS bytes,
  min(t) AS first_seen,
  max(t_end) AS last_seen,
  CAST(NULL AS BIGINT) AS distinct_count
FROM flows
WHERE t IS NOT NULL AND log_status = '{{ status }}'
GROUP BY t - t % {{ window }}, coalesce(interface_id, '-')
HAVING count(*) >= {{ min_records }}
  AND sum(greatest(t_end - t, 0)) >= {{ min_covered }}
ORDER BY window_start, interface_id
