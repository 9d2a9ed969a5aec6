// Zhili web shell: the phone menu toggle. No dependencies.
(function () {
  var b = document.querySelector("button.menu");
  var nav = document.getElementById("nav");
  if (!b || !nav) return;
  b.addEventListener("click", function () {
    var open = nav.classList.toggle("open");
    b.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();
