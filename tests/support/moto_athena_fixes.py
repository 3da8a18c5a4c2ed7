"""moto's Athena, corrected toward AWS's documented behaviour (used by moto_launcher.py).

(n) GetQueryResults pages: AWS returns at most MaxResults rows (1-1000, default 1000) per call
    and a NextToken while rows remain (docs: API_GetQueryResults); moto 5.2.1 ignores both and
    returns every row at once. The token here is the next row's offset, opaque to clients. The
    column metadata is returned with every page, as AWS does; a MaxResults outside 1-1000 or an
    unknown token is AWS's InvalidRequestException (400).
"""

import json


def patch():
    """Applies every fix of this module (called by moto_launcher.main)."""
    page_query_results()


def page_query_results():
    from moto.athena.responses import AthenaResponse

    def get_query_results(self):
        exec_id = self._get_param("QueryExecutionId")
        max_results = self._get_param("MaxResults")
        token = self._get_param("NextToken")
        if max_results is None:
            max_results = 1000
        if not isinstance(max_results, int) or not 1 <= max_results <= 1000:
            return self.error("MaxResults must be between 1 and 1000", 400)
        try:
            start = int(token) if token else 0
        except ValueError:
            return self.error("NextToken is not valid", 400)
        result = self.athena_backend.get_query_results(exec_id).to_dict()
        rows = result["ResultSet"]["Rows"]
        if start < 0 or start > len(rows):
            return self.error("NextToken is not valid", 400)
        end = start + max_results
        result["ResultSet"]["Rows"] = rows[start:end]
        if end < len(rows):
            result["NextToken"] = str(end)
        return json.dumps(result)

    AthenaResponse.get_query_results = get_query_results
