/* Runs in each trainer's output (inrlib.book.playground fills in the trainer's id, the engine's mode and files):
 * finds the engine (inline: in the output itself; site: at the site's root, found from the
 * attribute Sphinx puts on <html>; files: beside the page), loads it once per page, then mounts
 * this trainer. */
(function(){
var id="__ID__", mode="__MODE__", files=__FILES__;
var root=document.getElementById(id), data=JSON.parse(document.getElementById(id+"-data").textContent);
function mount(){ window.INRPlayground.mount(root, data); }
if (window.INRPlayground) { mount(); return; }
(window.__inrPlaygroundQueue = window.__inrPlaygroundQueue || []).push([root, data]);
if (window.__inrPlaygroundLoading) return;
var base=null;
if (mode==="inline") { window.__inrPlaygroundLoading=true; var e=document.createElement("script");
  e.textContent=document.getElementById(id+"-engine").textContent; document.head.appendChild(e); return; }
if (mode==="files") base="inr_playground/";
else if (mode==="site") {
  var cr=document.documentElement.getAttribute("data-content_root");
  if (cr===null) { var s=document.querySelector('script[src*="documentation_options.js"]');
    if (s) cr=s.getAttribute("src").replace(/_static\/documentation_options\.js.*$/,""); }
  if (cr!==null) base=cr+"inr_playground/";
}
if (base===null) { root.textContent="The in-page trainer's engine is carried by the built book. "+
  "In a notebook, show it with engine=\"inline\": playground(..., engine=\"inline\")."; return; }
window.__inrPlaygroundLoading=true;
(function next(i){ if (i>=files.length) return;
  var s=document.createElement("script"); s.src=base+files[i];
  s.onload=function(){ next(i+1); };
  s.onerror=function(){ root.textContent="Could not load the in-page trainer ("+base+files[i]+")."; };
  document.head.appendChild(s); })(0);
})();