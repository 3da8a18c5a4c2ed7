{% include "_conns.sql" %}
-- An internal client opening connections to many distinct internal servers on the admin
-- services (the connection's service port){% if include_rejected %}, rejected attempts included{% endif %}.
SELECT
  t - t % {{ window }} AS window_start,
  client AS src,
  min(server) AS dst,
  CASE WHEN count(DISTINCT server_port) = 1 THEN min(server_port) END AS dst_port,
  CAST(NULL AS INTEGER) AS protocol,
  CASE WHEN count(DISTINCT server_port) = 1 THEN min({{ service_name_tcp }}) END AS service,
  CAST(NULL AS VARCHAR) AS interface_id,
  count(*) AS flows,
  sum(packets) AS packets,
  sum(bytes) AS bytes,
  min(t) AS first_seen,
  max(t_end) AS last_seen,
  array_join(array_distinct(array_agg(conn_decided)), ',') AS decided_by,
  count(DISTINCT server) AS distinct_count
FROM conns
WHERE t IS NOT NULL
  AND (action = 'ACCEPT'{% if include_rejected %} OR action = 'REJECT'{% endif %})
  AND client_int AND server_int AND client <> server
  AND {{ services }}
  AND NOT {{ exempt }}
GROUP BY t - t % {{ window }}, client
HAVING count(DISTINCT server) >= {{ min_hosts }}
ORDER BY window_start, src
