"""HTML error pages for the web UI."""

from flask import g, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import default_exceptions

from fundsvc.login_session import session_actor
from fundsvc.observability.requests import request_id

#: What a page says instead of the framework's English description of an HTTP error.
PLAIN_MESSAGES = {
    400: _l("Yêu cầu không hợp lệ."),
    403: _l("Tài khoản của bạn không có quyền mở trang này."),
    404: _l("Không có trang này, hoặc nó không thuộc phạm vi đơn vị của bạn."),
    405: _l("Trang này không nhận thao tác đó."),
    413: _l("Tệp hoặc dữ liệu gửi lên quá lớn."),
    429: _l("Bạn thao tác quá nhanh. Hãy đợi một lát rồi thử lại."),
    500: _l("Máy chủ gặp lỗi. Hãy thử lại; nếu vẫn lỗi, báo cho người quản trị."),
    504: _l(
        "Trang này chạy quá thời gian cho phép nên đã bị dừng; những gì đang ghi dở đã được hủy. "
        "Hãy thử lại sau, hoặc chọn một khoảng ngắn hơn."
    ),
}
#: Errors whose page always says the plain message (the service's own words carry an English gloss for the API).
ALWAYS_PLAIN = {504}


def render_error_page(code: int, message: str):
    """An error page in the site's layout, with the menu of the logged-in user, in the reader's language."""
    default = default_exceptions.get(code)
    generic = not message or (default is not None and message == default.description) or code in ALWAYS_PLAIN
    if generic and code in PLAIN_MESSAGES:
        message = str(PLAIN_MESSAGES[code])
    if "actor" not in g:  # a URL no page answers: the web UI's own hooks did not run
        try:
            g.actor = session_actor()
        except Exception:  # the page must go out even when the database is what failed
            g.actor = None
    # A server failure names the request, for the administrator to find it in the log.
    shown_id = request_id() if code >= 500 else None
    return render_template("web/error.html", code=code, message=message, request_id=shown_id), code
