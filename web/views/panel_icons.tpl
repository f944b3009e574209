<svg class="sprite" aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">
<symbol id="i-measure" viewBox="0 0 16 16"><path d="M2 12a6 6 0 0 1 12 0" fill="none" stroke="currentColor" stroke-width="1.6"/><path d="M8 12l3-4.5" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/></symbol>
<symbol id="i-state" viewBox="0 0 16 16"><rect x="1.5" y="4.5" width="13" height="7" rx="3.5" fill="none" stroke="currentColor" stroke-width="1.4"/><circle cx="11" cy="8" r="2" fill="currentColor"/></symbol>
<symbol id="i-command" viewBox="0 0 16 16"><path d="M8 1.5v6" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/><path d="M4.6 4.2a5.2 5.2 0 1 0 6.8 0" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/></symbol>
<symbol id="i-closed" viewBox="0 0 16 16"><circle cx="8" cy="2.5" r="1.6" fill="currentColor"/><circle cx="8" cy="13.5" r="1.6" fill="currentColor"/><path d="M8 2.5v11" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></symbol>
<symbol id="i-open" viewBox="0 0 16 16"><circle cx="8" cy="2.5" r="1.6" fill="currentColor"/><circle cx="8" cy="13.5" r="1.6" fill="currentColor"/><path d="M8 13.5L3.5 4" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></symbol>
<symbol id="i-tripped" viewBox="0 0 16 16"><circle cx="8" cy="2.5" r="1.6" fill="currentColor"/><circle cx="8" cy="13.5" r="1.6" fill="currentColor"/><path d="M8 13.5L3.5 4M10.5 5l4 4M14.5 5l-4 4" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></symbol>
<symbol id="i-unknown" viewBox="0 0 16 16"><circle cx="8" cy="2.5" r="1.6" fill="currentColor"/><circle cx="8" cy="13.5" r="1.6" fill="currentColor"/></symbol>
<symbol id="i-on" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6" fill="currentColor"/></symbol>
<symbol id="i-off" viewBox="0 0 16 16"><circle cx="8" cy="8" r="5.5" fill="none" stroke="currentColor" stroke-width="1.8"/></symbol>
<symbol id="i-error" viewBox="0 0 16 16"><path d="M8 1.5L15.2 14.5H.8z" fill="currentColor"/><path d="M8 6v4.2M8 12v.6" stroke="#fff" stroke-width="1.7" stroke-linecap="round"/></symbol>
<symbol id="i-fault" viewBox="0 0 16 16"><rect x="1.5" y="1.5" width="13" height="13" rx="2.5" fill="currentColor"/><path d="M8 4.5v4.8M8 11.5v.6" stroke="#fff" stroke-width="1.8" stroke-linecap="round"/></symbol>
</svg>
