/* wxpay sandbox: WeixinJSBridge and wx.requestPayment for an ordinary browser.
 *
 * Load it from the sandbox (<script src="http://SANDBOX/sandbox/bridge.js"></script>) and call
 * the front-end APIs as inside WeChat. The sandbox checks the parameters as WeChat does; a
 * refusal is shown in the page (role="alert") and the callback gets the failure; good
 * parameters open the sandbox's cashier, and the callback gets what the payer chose. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script && script.src ? script.src : "/", window.location.href).origin;

  function showError(api, reason) {
    var box = document.getElementById("wxpay-sandbox-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "wxpay-sandbox-error";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;left:0;right:0;top:0;z-index:2147483647;padding:12px 16px;" +
        "background:#fdecea;color:#8a1c14;border-bottom:2px solid #b42318;font:15px/1.4 system-ui,sans-serif";
      document.body.appendChild(box);
    }
    box.textContent = "WeChat Pay (sandbox) refused " + api + ": " + reason;
  }

  function openCashier(url, done) {
    var overlay = document.createElement("div");
    overlay.id = "wxpay-sandbox-cashier";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-label", "WeChat Pay sandbox cashier");
    overlay.style.cssText = "position:fixed;inset:0;z-index:2147483646;background:rgba(0,0,0,.55);" +
      "display:flex;align-items:flex-end;justify-content:center";
    var frame = document.createElement("iframe");
    frame.title = "WeChat Pay sandbox cashier";
    frame.name = "wxpay-sandbox-cashier";
    frame.src = url;
    frame.style.cssText = "width:100%;max-width:32rem;height:min(40rem,92vh);border:0;border-radius:12px 12px 0 0;background:#f4f5f7";
    overlay.appendChild(frame);
    document.body.appendChild(overlay);
    frame.focus();
    function onMessage(event) {
      if (event.origin !== base || !event.data || event.data.wxpaySandbox !== true) return;
      window.removeEventListener("message", onMessage);
      // Let the payer see the result for a moment, as WeChat's sheet does.
      setTimeout(function () {
        overlay.remove();
        done(event.data.result, event.data.reason);
      }, 600);
    }
    window.addEventListener("message", onMessage);
  }

  function pay(api, params, done) {
    var body = new URLSearchParams();
    body.set("api", api);
    ["appId", "timeStamp", "nonceStr", "package", "signType", "paySign"].forEach(function (key) {
      if (params && params[key] !== undefined && params[key] !== null) body.set(key, String(params[key]));
    });
    fetch(base + "/sandbox/bridge/check", { method: "POST", body: body })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (!answer.ok) {
          showError(api, answer.reason);
          done("fail", answer.reason);
        } else {
          var old = document.getElementById("wxpay-sandbox-error");
          if (old) old.remove();
          openCashier(answer.cashier_url, done);
        }
      })
      .catch(function (error) {
        var reason = "the sandbox at " + base + " cannot be reached (" + error + ")";
        showError(api, reason);
        done("fail", reason);
      });
  }

  window.WeixinJSBridge = {
    invoke: function (name, params, callback) {
      var reply = typeof callback === "function" ? callback : function () {};
      if (name !== "getBrandWCPayRequest") {
        reply({ err_msg: name + ":fail the sandbox bridge only knows getBrandWCPayRequest" });
        return;
      }
      pay(name, params, function (result, reason) {
        var res = { err_msg: "get_brand_wcpay_request:" + result };
        if (result === "fail" && reason) res.err_desc = reason;
        reply(res);
      });
    },
    on: function () {},
    call: function () {}
  };

  window.wx = window.wx || {};
  window.wx.requestPayment = function (options) {
    var o = options || {};
    pay("requestPayment", o, function (result, reason) {
      var res = { errMsg: result === "ok" ? "requestPayment:ok"
        : "requestPayment:fail " + (result === "cancel" ? "cancel" : reason) };
      if (result === "ok") { if (o.success) o.success(res); } else if (o.fail) { o.fail(res); }
      if (o.complete) o.complete(res);
    });
  };

  document.dispatchEvent(new Event("WeixinJSBridgeReady"));
})();
