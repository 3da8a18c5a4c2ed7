{% include "_flows.sql" %}
SELECT dst AS addr, sum(bytes) AS bytes
FROM flows
WHERE src IS NOT NULL AND dst IS NOT NULL AND bytes > 0
GROUP BY dst
ORDER BY bytes DESC, dst
LIMIT {{ top_n }}
