// window.zhiliMapLocale: MapLibre's own control labels (zoom buttons, popup close, the
// attribution toggle) in the page's language; map.js and minimap.js pass it as
// the Map's `locale` option, so it loads before them.
(function () {
  var zh = (document.documentElement.lang || "zh-CN").indexOf("zh") === 0;
  window.zhiliMapLocale = zh ? {
    "NavigationControl.ZoomIn": "放大", "NavigationControl.ZoomOut": "缩小",
    "NavigationControl.ResetBearing": "恢复正北", "Popup.Close": "关闭",
    "AttributionControl.ToggleAttribution": "显示或隐藏版权信息", "AttributionControl.MapFeedback": "地图反馈",
    "GeolocateControl.FindMyLocation": "定位到我的位置", "GeolocateControl.LocationNotAvailable": "无法获取位置",
    "ScaleControl.Meters": "米", "ScaleControl.Kilometers": "公里",
    "FullscreenControl.Enter": "全屏", "FullscreenControl.Exit": "退出全屏",
    "ScrollZoomBlocker.CtrlMessage": "按住 Ctrl 并滚动以缩放地图", "ScrollZoomBlocker.CmdMessage": "按住 ⌘ 并滚动以缩放地图",
    "TouchPanBlocker.Message": "用两根手指移动地图"
  } : {};
})();
