{% include "_flows.sql" %}
-- One connection per record, as the local `conn`: the initiator decides the client and the
-- server and the service port is the server's, so a client's records and the server's
-- replies count under one key. An unknown initiator is {% if unknown_ports %}taken as the
-- source (`settings.initiator_unknown: ports`){% elif probe_conn %}skipped
-- (`settings.initiator_unknown: skip`) unless the record was rejected (then its source sent it){% else %}skipped (`settings.initiator_unknown: skip`){% endif %}.
, sided AS (
  SELECT flows.*,
    coalesce(initiator, {% if unknown_ports %}'src'{% elif probe_conn %}CASE WHEN action = 'REJECT' THEN 'src' END{% else %}CAST(NULL AS VARCHAR){% endif %}) AS side
  FROM flows
),
conns AS (
  SELECT sided.*,
    CASE side WHEN 'src' THEN src ELSE dst END AS client,
    CASE side WHEN 'src' THEN dst ELSE src END AS server,
    CASE side WHEN 'src' THEN src_v4 ELSE dst_v4 END AS client_v4,
    CASE side WHEN 'src' THEN dst_v4 ELSE src_v4 END AS server_v4,
    CASE side WHEN 'src' THEN dport ELSE sport END AS server_port,
    CASE side WHEN 'src' THEN src_int ELSE dst_int END AS client_int,
    CASE side WHEN 'src' THEN dst_int ELSE src_int END AS server_int,
    side = 'src' AS from_client,
    CASE WHEN initiator IS NOT NULL THEN decided ELSE {% if unknown_ports %}'ports'{% else %}'none'{% endif %} END AS conn_decided
  FROM sided
  WHERE side IS NOT NULL AND ported AND src IS NOT NULL AND dst IS NOT NULL
)
