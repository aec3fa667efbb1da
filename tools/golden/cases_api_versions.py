from kafka.protocol.metadata import ApiVersionsRequest, ApiVersionsResponse

V = ApiVersionsResponse.ApiVersion

CASES = [
    ("request_v0", ApiVersionsRequest[0]()),
    ("request_v3", ApiVersionsRequest[3](client_software_name="tern", client_software_version="0.1.0")),
    # The KIP-511 reply to an unsupported ApiVersions version (kafka-compat.md §1.4).
    ("response_v0_unsupported", ApiVersionsResponse[0](error_code=35, api_keys=[V(api_key=18, min_version=0, max_version=2)])),
    ("response_v2", ApiVersionsResponse[2](error_code=0, throttle_time_ms=7, api_keys=[
        V(api_key=0, min_version=0, max_version=7), V(api_key=1, min_version=4, max_version=11)])),
    ("response_v3", ApiVersionsResponse[3](error_code=0, throttle_time_ms=0, api_keys=[
        V(api_key=18, min_version=0, max_version=3)])),
]
