{% include "_flows.sql" %}
SELECT src AS addr, sum(bytes) AS bytes
FROM flows
WHERE src IS NOT NULL AND dst IS NOT NULL AND bytes > 0
GROUP BY src
ORDER BY bytes DESC, src
LIMIT {{ top_n }}
