% # Section A of the report pages: the devices, groups or loads to choose, one by one or all
% kinds_of = get('kinds_of', {})
<section class="list" aria-labelledby="items-title">
  <h2 id="items-title">{{title}}</h2>
  % if choices:
  <label class="check"><input type="checkbox" name="all" value="on" data-select-all{{!" checked" if all_chosen else ""}}> <strong>{{_("Select all")}}</strong></label>
  % else:
  <p class="hint">{{_("Nothing to choose here.")}}</p>
  % end
  <ul class="items">
  % for ch in choices:
    <li><label class="check"><input type="checkbox" name="items" value="{{ch.id}}" data-item{{!" checked" if all_chosen or str(ch.id) in chosen else ""}}>
      <span class="nm">{{ch.name}}</span>
      % for k in ch.kinds:
      <small class="badge">{{kind_names[k]}}</small>
      % end
      % if ch.note:
      <small class="badge">{{ch.note}}</small>
      % end
    </label></li>
  % end
  </ul>
  % if errors.get("items"):
  <p class="error" id="items-error">{{errors["items"]}}</p>
  % end
</section>
