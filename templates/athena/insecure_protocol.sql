{% include "_conns.sql" %}
-- Cleartext services accepted across the internet boundary, inbound or outbound: one row per
-- (client, server, protocol, server port) and window; `ours` is our side.
SELECT
  t - t % {{ window }} AS window_start,
  client AS src,
  server AS dst,
  server_port AS dst_port,
  nullif(protocol, 0) AS protocol,
  coalesce({{ service_name }}, 'insecure protocol') AS service,
  CAST(NULL AS VARCHAR) AS interface_id,
  CASE WHEN server_int THEN server ELSE client END AS ours,
  count(*) AS flows,
  sum(packets) AS packets,
  sum(bytes) AS bytes,
  min(t) AS first_seen,
  max(t_end) AS last_seen,
  array_join(array_distinct(array_agg(conn_decided)), ',') AS decided_by,
  CAST(NULL AS BIGINT) AS distinct_count
FROM conns
WHERE t IS NOT NULL AND action = 'ACCEPT'
  AND client_int <> server_int
  AND {{ services }}
  AND NOT {{ exempt }}
GROUP BY t - t % {{ window }}, client, server, protocol, server_port, server_int
ORDER BY window_start, src, dst, dst_port
