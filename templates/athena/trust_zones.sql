{% include "_conns.sql" %}
-- Accepted connections the server zone's policy (`zones[].accept_from`) does not allow from
-- the client's zone on the service port: replies are filed under their connection.
, zoned AS (
  SELECT conns.*,
    {{ src_zone }} AS src_zone,
    {{ dst_zone }} AS dst_zone
  FROM conns
),
judged AS (
  SELECT zoned.*,
    CASE WHEN from_client THEN src_zone ELSE dst_zone END AS client_zone,
    CASE WHEN from_client THEN dst_zone ELSE src_zone END AS server_zone
  FROM zoned
)
SELECT
  t - t % {{ window }} AS window_start,
  client AS src,
  server AS dst,
  server_port AS dst_port,
  nullif(protocol, 0) AS protocol,
  CAST(NULL AS VARCHAR) AS service,
  CAST(NULL AS VARCHAR) AS interface_id,
  client_zone AS src_zone,
  server_zone AS dst_zone,
  count(*) AS flows,
  sum(packets) AS packets,
  sum(bytes) AS bytes,
  min(t) AS first_seen,
  max(t_end) AS last_seen,
  array_join(array_distinct(array_agg(conn_decided)), ',') AS decided_by,
  CAST(NULL AS BIGINT) AS distinct_count
FROM judged
WHERE t IS NOT NULL AND action = 'ACCEPT'
  AND NOT {{ allows }}
  AND NOT {{ exempt }}
GROUP BY t - t % {{ window }}, client, server, protocol, server_port, client_zone, server_zone
ORDER BY window_start, src, dst, dst_port
