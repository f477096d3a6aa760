// Enhancements only: every page works without this file.
// Readers in another timezone than the event's get their own time beside each event time.
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(document.documentElement.lang, {
    hour: "numeric", minute: "2-digit", timeZoneName: "short"
  });
  document.querySelectorAll("time[datetime*='T']").forEach(function (element) {
    var value = element.getAttribute("datetime");
    var match = /([+-]\d\d):?(\d\d)$/.exec(value);
    if (!match) { return; }
    var eventOffset = -(parseInt(match[1], 10) * 60 + Math.sign(parseInt(match[1], 10) || 1) * parseInt(match[2], 10));
    var moment = new Date(value);
    if (isNaN(moment) || moment.getTimezoneOffset() === eventOffset) { return; }
    element.title = format.format(moment);
  });
})();
