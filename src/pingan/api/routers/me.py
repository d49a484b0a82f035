"""`GET /me`: the signed-in user, their role and the region they may see."""

from ninja import Router

from pingan.api.schemas import ErrorOut, UserOut
from pingan.api.security import AuthedRequest

router = Router(tags=["me"])


@router.get("", response={200: UserOut, 401: ErrorOut}, summary="当前用户")
def me(request: AuthedRequest):
    return request.auth
