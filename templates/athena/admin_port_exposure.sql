{% include "_conns.sql" %}
-- Accepted connections opened by an external client to an internal server on one of the
-- services; the initiator rule (tcp-flags, then REJECT on ingress, then ports) decides who
-- the client is, so a reply to our own connection is not an exposure.
SELECT
  t - t % {{ window }} AS window_start,
  CAST(NULL AS VARCHAR) AS src,
  server AS dst,
  server_port AS dst_port,
  protocol,
  {{ service_name }} AS service,
  CAST(NULL AS VARCHAR) AS interface_id,
  count(*) AS flows,
  sum(packets) AS packets,
  sum(bytes) AS bytes,
  min(t) AS first_seen,
  max(t_end) AS last_seen,
  array_join(array_distinct(array_agg(conn_decided)), ',') AS decided_by,
  count(DISTINCT client) AS distinct_count
FROM conns
WHERE t IS NOT NULL AND action = 'ACCEPT' AND ported
  AND NOT client_int AND server_int
  AND {{ services }}
  AND NOT {{ exempt }}
GROUP BY t - t % {{ window }}, server, server_port, protocol
HAVING count(DISTINCT client) >= {{ min_sources }}
ORDER BY window_start, dst, dst_port
