"""实时: the Server-Sent Events stream that tells the web app the views changed."""

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from minsheng_gateway.reads import VIEWS_TAG
from minsheng_gateway.stream.service import event_stream

router = APIRouter(prefix="/api/v1", tags=[VIEWS_TAG])


@router.get(
    "/stream/views",
    summary="实时推送：网关视图更新后推送 views-changed 事件（Server-Sent Events），附涉及的行动",
    description="text/event-stream。每次审核等事件写入网关视图后推送 `event: views-changed`，"
    '`data: {"campaigns": ["education"]}`；campaigns 为空表示全部重新读取（连接过慢时合并的信号）。'
    "每15秒发送一行注释保持连接。",
    response_class=StreamingResponse,
)
async def stream_views(request: Request) -> StreamingResponse:
    return StreamingResponse(
        event_stream(request.app.state.views_changes),
        media_type="text/event-stream",
        # no-transform: proxies must not compress nor hold back the events; X-Accel-Buffering for nginx.
        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
    )
