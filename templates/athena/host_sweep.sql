{% include "_conns.sql" %}
-- The client and server come from the initiator rule (tcp-flags, then REJECT on ingress,
-- then ports); a rejected record whose initiator is unknown counts for its source. Every
-- client record counts: the local probing/serving test (targets answered or served are
-- subtracted, the probe share, the admission gate of public clients) is not translated.
SELECT
  t - t % {{ window }} AS window_start,
  client AS src,
  CAST(NULL AS VARCHAR) AS dst,
  server_port AS dst_port,
  protocol,
  CAST(NULL AS VARCHAR) AS service,
  CAST(NULL AS VARCHAR) AS interface_id,
  count(*) AS flows,
  sum(packets) AS packets,
  sum(bytes) AS bytes,
  min(t) AS first_seen,
  max(t_end) AS last_seen,
  array_join(array_distinct(array_agg(conn_decided)), ',') AS decided_by,
  count(DISTINCT server) AS distinct_count
FROM conns
WHERE t IS NOT NULL AND ported
  {%- if probes_only %} AND probe{% endif %}
  AND {{ client_scope }}
  AND NOT {{ exempt }}
GROUP BY t - t % {{ window }}, client, server_port, protocol
HAVING count(DISTINCT server) >= {{ min_hosts }}
ORDER BY window_start, src, dst_port
